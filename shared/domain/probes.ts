/**
 * What probes send and what their answers are made of: the transport a target is probed with, the
 * interleaved order of requests, JSON types and paths of responses, and the declarative security
 * patterns. Pure: no I/O, no clock.
 */
import type { Component, Probe, Target } from './catalog';

export type ProbeTransport = 'invoke' | 'http';
export type ProbeSide = 'candidate' | 'baseline';
export type JsonType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null';

/**
 * How a target's versions are reached: a Lambda version by Invoke with its qualifier, unless the
 * catalog names function URLs; ECS and EC2 over HTTP.
 */
export function probeTransport(target: Target, probes: Component['probes']): ProbeTransport {
  if (target.type === 'lambda') return probes.http ? 'http' : 'invoke';
  return 'http';
}

/** One request to send: which probe, to which version, and its place in the run. */
export interface ProbeTask {
  probe: Probe;
  side: ProbeSide;
  /** The request's index within its probe and phase: a candidate's and a baseline's answer to the same request share it. */
  seq: number;
  /** `burst` for a load probe's requests, sent at its rate. */
  phase: 'steady' | 'burst';
}

/**
 * The order requests go out in: for each round, each probe, the candidate then the baseline, so
 * that drift over the run (a warming cache, a noisy neighbour) hits both versions alike. A load
 * probe's burst is separate: its requests alternate between the versions at the stated rate.
 */
export function interleavedPlan(
  probes: readonly Probe[],
  samples: number,
  withBaseline: boolean,
): { steady: ProbeTask[]; bursts: { probe: Probe; tasks: ProbeTask[] }[] } {
  const sides: ProbeSide[] = withBaseline ? ['candidate', 'baseline'] : ['candidate'];
  const steady: ProbeTask[] = [];
  for (let seq = 0; seq < samples; seq++) {
    for (const probe of probes) {
      if (probe.kind === 'load') continue;
      for (const side of sides) steady.push({ probe, side, seq, phase: 'steady' });
    }
  }
  const bursts = probes
    .filter((p) => p.kind === 'load' && p.load)
    .map((probe) => {
      const tasks: ProbeTask[] = [];
      for (let seq = 0; seq < (probe.load?.requests ?? 0); seq++) {
        for (const side of sides) tasks.push({ probe, side, seq, phase: 'burst' });
      }
      return { probe, tasks };
    });
  return { steady, bursts };
}

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean' ? t : 'object';
}

/** The top-level fields of a JSON object answer with their types; none for anything else. */
export function fieldTypes(body: unknown): Record<string, JsonType> | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const out: Record<string, JsonType> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) out[k] = jsonTypeOf(v);
  return out;
}

/**
 * The first path at which two JSON values differ, ignoring the given dotted paths (`a.b`, `items.0.id`,
 * `*` for any key at that level); undefined when they are equal.
 */
export function firstDifference(
  a: unknown,
  b: unknown,
  ignore: readonly string[] = [],
  path = '',
): string | undefined {
  if (ignored(path, ignore)) return undefined;
  if (a === b) return undefined;
  const ta = jsonTypeOf(a);
  if (ta !== jsonTypeOf(b) || (ta !== 'object' && ta !== 'array')) return path || '(root)';
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of [...keys].sort()) {
    const sub = path ? `${path}.${k}` : k;
    if (!Object.hasOwn(ra, k) || !Object.hasOwn(rb, k)) {
      if (!ignored(sub, ignore)) return sub;
      continue;
    }
    const d = firstDifference(ra[k], rb[k], ignore, sub);
    if (d !== undefined) return d;
  }
  return undefined;
}

function ignored(path: string, ignore: readonly string[]): boolean {
  if (!path) return false;
  const parts = path.split('.');
  return ignore.some((pattern) => {
    const p = pattern.split('.');
    return p.length === parts.length && p.every((seg, i) => seg === '*' || seg === parts[i]);
  });
}

/** Stack traces as runtimes print them. */
const STACK_TRACES: readonly [string, RegExp][] = [
  ['a Node.js stack trace', /\n?\s+at [^\s()]+ \([^()]+:\d+:\d+\)|\n\s+at [^\s()]+:\d+:\d+/],
  ['a Java stack trace', /\n?\s*at [\w$.]+\([\w$]+\.java:\d+\)/],
  ['a Python traceback', /Traceback \(most recent call last\)/],
  ['a .NET stack trace', /\s+at [\w.`<>]+\(.*\) in .+:line \d+/],
];

/** Secrets that must never leave a service. */
const SECRETS: readonly [string, RegExp][] = [
  ['an AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['a private key', /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/],
  ['an AWS secret access key', /aws_?secret_?access_?key["'\s:=]+[A-Za-z0-9/+=]{40}/i],
  ['a password assignment', /["']?password["']?\s*[:=]\s*["'][^"']{4,}["']/i],
];

/** What a body shows that it must not, by the probe's security checks; the names of what was found. */
export function securityFindings(
  text: string,
  checks: { noStackTraces: boolean; noSecrets: boolean; forbiddenPatterns: readonly string[] },
): string[] {
  const found: string[] = [];
  if (checks.noStackTraces) for (const [name, re] of STACK_TRACES) if (re.test(text)) found.push(name);
  if (checks.noSecrets) for (const [name, re] of SECRETS) if (re.test(text)) found.push(name);
  for (const pattern of checks.forbiddenPatterns) {
    if (new RegExp(pattern).test(text)) found.push(`the forbidden pattern /${pattern}/`);
  }
  return found;
}

/** A body as text for scanning, at most 64 KiB of it. */
export function bodyText(body: unknown): string {
  if (body === undefined) return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 65_536 ? text.slice(0, 65_536) : text;
}
