import type { z } from 'zod';

/**
 * Turns zod issues into lines that name the path in the document and what was expected, e.g.
 * `detail.version: expected a semantic version such as 1.2.3`.
 */
export function describeIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(root, issue.path);
    return `${path || '(root)'}: ${issue.message}`;
  });
}

export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
