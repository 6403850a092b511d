/**
 * Reads `record[key]` only when `key` is the record's own property. Names from outside (a
 * component, an environment, a repository) must never reach `Object.prototype`: with a plain
 * `record[key]`, an environment called `constructor` finds a function and passes for a known one.
 *
 * @example
 * ownValue({ staging: 1 }, 'staging')     // 1
 * ownValue({ staging: 1 }, 'constructor') // undefined
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Keys that reach or replace an object's prototype when assigned or looked up. Our documents
 * (catalog, policies) reject them wherever they appear, with their path.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Every reserved key in a parsed JSON document, by path (`a.b[0].__proto__`). */
export function findReservedKeys(node: unknown, path = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => findReservedKeys(item, `${path}[${i}]`));
  if (!node || typeof node !== 'object') return [];
  return Object.keys(node).flatMap((key) => {
    const here = path ? `${path}.${key}` : key;
    if (RESERVED_KEYS.has(key)) return [`${here}: reserved key; not allowed in a document`];
    return findReservedKeys((node as Record<string, unknown>)[key], here);
  });
}
