/**
 * An EventBridge event-pattern matcher. The local bus, the policy engine's custom rules and the
 * tests all use it, and the CDK rules deploy the same pattern objects, so a pattern means the
 * same thing everywhere.
 *
 * Supported, as AWS documents them: exact values (OR within an array), nested objects (AND
 * across fields), `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (values,
 * or with prefix / suffix / equals-ignore-case / wildcard), `numeric`, `cidr`, `exists`, `null`,
 * `""` and `$or`.
 *
 * One known difference: AWS compares plain numbers by their JSON text (`300` ≠ `300.0`); after
 * `JSON.parse` that text is gone, so plain numbers here compare by value.
 */
export type EventPattern = { [key: string]: PatternValue };
type PatternValue = readonly Matcher[] | EventPattern | readonly EventPattern[];
type Matcher = string | number | boolean | null | Record<string, unknown>;

export class InvalidEventPattern extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventPattern';
  }
}

const MAX_OR_COMBINATIONS = 1000;

/** True when `event` matches `pattern`. Throws InvalidEventPattern for a malformed pattern. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event, '');
}

/** Checks a pattern's syntax without an event; returns the problems found. */
export function validatePattern(pattern: unknown): string[] {
  const problems: string[] = [];
  walk(pattern, '', problems);
  if (problems.length === 0 && orCombinations(pattern as EventPattern) > MAX_OR_COMBINATIONS) {
    problems.push(`$or: more than ${MAX_OR_COMBINATIONS} combinations`);
  }
  return problems;
}

function orCombinations(pattern: EventPattern): number {
  let total = 1;
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or' && Array.isArray(value)) {
      total *= (value as EventPattern[]).reduce((sum, p) => sum + orCombinations(p), 0);
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      total *= orCombinations(value as EventPattern);
    }
  }
  return total;
}

function walk(node: unknown, path: string, problems: string[]): void {
  if (!node || typeof node !== 'object' || Array.isArray(node)) {
    problems.push(`${path || '(root)'}: expected an object`);
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        problems.push(`${here}: expected an array of at least 2 patterns`);
        continue;
      }
      value.forEach((p, i) => {
        walk(p, `${here}[${i}]`, problems);
      });
    } else if (Array.isArray(value)) {
      value.forEach((m, i) => {
        const problem = checkMatcher(m);
        if (problem) problems.push(`${here}[${i}]: ${problem}`);
      });
    } else if (value && typeof value === 'object') {
      walk(value, here, problems);
    } else {
      problems.push(`${here}: expected an array of values or a nested pattern`);
    }
  }
}

function checkMatcher(m: unknown): string | undefined {
  if (m === null || ['string', 'number', 'boolean'].includes(typeof m)) return undefined;
  if (typeof m !== 'object' || Array.isArray(m)) return 'expected a value or an operator object';
  const entries = Object.entries(m as Record<string, unknown>);
  if (entries.length !== 1) return 'an operator object has exactly one key';
  const [op, arg] = entries[0] as [string, unknown];
  if (op === 'exists') return typeof arg === 'boolean' ? undefined : 'exists takes true or false';
  try {
    compileOperator(op, arg);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function matchObject(pattern: EventPattern, event: unknown, path: string): boolean {
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or') {
      const alternatives = value as readonly EventPattern[];
      if (!Array.isArray(alternatives) || alternatives.length < 2) {
        throw new InvalidEventPattern(`${path}$or: expected an array of at least 2 patterns`);
      }
      if (!alternatives.some((alt) => matchObject(alt, event, path))) return false;
      continue;
    }
    // Own properties only: `constructor` or `toString` are not fields of an event that lacks them.
    const field =
      event && typeof event === 'object' && !Array.isArray(event) && Object.hasOwn(event, key)
        ? (event as Record<string, unknown>)[key]
        : undefined;
    if (Array.isArray(value)) {
      if (!matchLeaf(value as readonly Matcher[], field, `${path}${key}`)) return false;
    } else if (value && typeof value === 'object') {
      if (field !== undefined && (typeof field !== 'object' || field === null || Array.isArray(field))) {
        // A nested pattern never matches a leaf value.
        return false;
      }
      if (!matchObject(value as EventPattern, field ?? undefined, `${path}${key}.`)) return false;
    } else {
      throw new InvalidEventPattern(`${path}${key}: expected an array of values or a nested pattern`);
    }
  }
  return true;
}

function matchLeaf(matchers: readonly Matcher[], field: unknown, path: string): boolean {
  const isObjectNode = field !== null && typeof field === 'object' && !Array.isArray(field);
  const values: unknown[] = Array.isArray(field) ? field : field === undefined ? [] : [field];
  return matchers.some((m) => {
    if (m !== null && typeof m === 'object') {
      const [op, arg] = Object.entries(m)[0] ?? [];
      if (op === undefined) throw new InvalidEventPattern(`${path}: empty operator object`);
      if (op === 'exists') {
        if (typeof arg !== 'boolean') throw new InvalidEventPattern(`${path}: exists takes true or false`);
        // exists applies to leaves only; as in AWS's Ruler, exists:false matches an object node.
        const present = values.length > 0 && !isObjectNode;
        return arg ? present : !present;
      }
      const test = compileOperator(op, arg);
      if (op === 'anything-but') {
        // anything-but needs a value to compare; a missing field never matches.
        return values.length > 0 && values.every((v) => test(v));
      }
      return values.some((v) => test(v));
    }
    return values.some((v) => v === m);
  });
}

type Test = (value: unknown) => boolean;

function compileOperator(op: string, arg: unknown): Test {
  switch (op) {
    case 'prefix':
      return stringOp(
        op,
        arg,
        (v, s) => v.startsWith(s),
        (v, s) => v.toLowerCase().startsWith(s.toLowerCase()),
      );
    case 'suffix':
      return stringOp(
        op,
        arg,
        (v, s) => v.endsWith(s),
        (v, s) => v.toLowerCase().endsWith(s.toLowerCase()),
      );
    case 'equals-ignore-case': {
      if (typeof arg !== 'string') throw new InvalidEventPattern('equals-ignore-case takes a string');
      const want = arg.toLowerCase();
      return (v) => typeof v === 'string' && v.toLowerCase() === want;
    }
    case 'wildcard': {
      if (typeof arg !== 'string') throw new InvalidEventPattern('wildcard takes a string');
      const re = wildcardRegExp(arg);
      return (v) => typeof v === 'string' && re.test(v);
    }
    case 'anything-but':
      return anythingBut(arg);
    case 'numeric':
      return numeric(arg);
    case 'cidr':
      return cidr(arg);
    case 'exists':
      throw new InvalidEventPattern('exists is handled by the caller');
    default:
      throw new InvalidEventPattern(`unknown operator "${op}"`);
  }
}

function stringOp(
  op: string,
  arg: unknown,
  exact: (v: string, s: string) => boolean,
  folded: (v: string, s: string) => boolean,
): Test {
  if (typeof arg === 'string') return (v) => typeof v === 'string' && exact(v, arg);
  if (
    arg &&
    typeof arg === 'object' &&
    Object.hasOwn(arg, 'equals-ignore-case') &&
    typeof (arg as Record<string, unknown>)['equals-ignore-case'] === 'string'
  ) {
    const s = (arg as Record<string, string>)['equals-ignore-case'] as string;
    return (v) => typeof v === 'string' && folded(v, s);
  }
  throw new InvalidEventPattern(`${op} takes a string or {"equals-ignore-case": string}`);
}

function wildcardRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\')
        throw new InvalidEventPattern(`wildcard: invalid escape "\\${next ?? ''}"`);
      out += `\\${next}`;
      i++;
    } else if (ch === '*') {
      if (pattern[i + 1] === '*') throw new InvalidEventPattern('wildcard: consecutive "*" are not allowed');
      out += '.*';
    } else {
      out += ch.replace(/[.+?^${}()|[\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`, 's');
}

function anythingBut(arg: unknown): Test {
  if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
    const entries = Object.entries(arg as Record<string, unknown>);
    const [op, inner] = entries[0] ?? [];
    if (entries.length !== 1 || !op || !['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(op)) {
      throw new InvalidEventPattern(
        'anything-but takes values, or one of prefix, suffix, equals-ignore-case, wildcard',
      );
    }
    const list = Array.isArray(inner) ? inner : [inner];
    const tests = list.map((s) => {
      if (typeof s !== 'string') throw new InvalidEventPattern(`anything-but ${op} takes strings`);
      return compileOperator(op, s);
    });
    // Non-string values are not prefixed/suffixed by anything, so they pass.
    return (v) => !tests.some((t) => t(v));
  }
  const list = Array.isArray(arg) ? arg : [arg];
  for (const item of list) {
    if (typeof item !== 'string' && typeof item !== 'number') {
      throw new InvalidEventPattern('anything-but values are strings or numbers');
    }
  }
  return (v) => !list.includes(v as string | number);
}

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function numeric(arg: unknown): Test {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw new InvalidEventPattern('numeric takes [op, number] or [op, number, op, number]');
  }
  const checks: Array<(v: number) => boolean> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    const cmp = typeof op === 'string' && Object.hasOwn(COMPARATORS, op) ? COMPARATORS[op] : undefined;
    if (!cmp || typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new InvalidEventPattern(`numeric: expected an operator (<, <=, =, >, >=) and a number at ${i}`);
    }
    if (Math.abs(bound) > 5e9) throw new InvalidEventPattern('numeric: bounds are limited to ±5.0e9');
    checks.push((v) => cmp(v, bound));
  }
  return (v) => typeof v === 'number' && checks.every((c) => c(v));
}

function cidr(arg: unknown): Test {
  if (typeof arg !== 'string' || !arg.includes('/'))
    throw new InvalidEventPattern('cidr takes "address/bits"');
  const [addr, bitsText] = arg.split('/') as [string, string];
  const bits = Number(bitsText);
  const net = ipToBigInt(addr);
  if (!net || !Number.isInteger(bits) || bits < 0 || bits > net.width) {
    throw new InvalidEventPattern(`cidr: "${arg}" is not a valid IPv4 or IPv6 block`);
  }
  const shift = BigInt(net.width - bits);
  return (v) => {
    if (typeof v !== 'string') return false;
    const ip = ipToBigInt(v);
    return !!ip && ip.width === net.width && ip.value >> shift === net.value >> shift;
  };
}

function ipToBigInt(text: string): { value: bigint; width: number } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), width: 32 };
  }
  if (!text.includes(':')) return undefined;
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return undefined;
  const groups = [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n), width: 128 };
}
