import type { z } from 'zod';

/**
 * Turns zod issues into lines that name the path in the document and what was expected, e.g.
 * `detail.version: expected a semantic version such as 1.2.3`. An unknown key gets its own line
 * with the key in the path: `production.bakeMinuts: unknown key, did you mean "bakeMinutes"?`.
 */
export function describeIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      // strictObject writes one line per key; any other message stands for all of them.
      const lines = issue.message.split('\n');
      const perKey = lines.length === issue.keys.length && lines.every((l) => l.startsWith('unknown key'));
      return issue.keys.map(
        (key, i) => `${formatPath(root, [...issue.path, key])}: ${perKey ? lines[i] : 'unknown key'}`,
      );
    }
    const path = formatPath(root, issue.path);
    return [`${path || '(root)'}: ${issue.message}`];
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
