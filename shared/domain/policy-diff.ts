/** The changes between two JSON documents, as paths (`rules[1].then.decision`) with before and after. */
export interface Change {
  path: string;
  before?: unknown;
  after?: unknown;
}

export function diffDocuments(before: unknown, after: unknown, path = ''): Change[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const bothObjects =
    before &&
    after &&
    typeof before === 'object' &&
    typeof after === 'object' &&
    Array.isArray(before) === Array.isArray(after);
  if (!bothObjects) {
    return [
      {
        path: path || '(root)',
        ...(before !== undefined ? { before } : {}),
        ...(after !== undefined ? { after } : {}),
      },
    ];
  }
  const out: Change[] = [];
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) out.push(...diffDocuments(before[i], after[i], `${path}[${i}]`));
    return out;
  }
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) {
    out.push(...diffDocuments(b[key], a[key], path ? `${path}.${key}` : key));
  }
  return out;
}
