/**
 * Semantic versions (semver.org 2.0.0): parse, compare and classify the bump between two.
 */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string[];
  raw: string;
}

export type Bump = 'major' | 'minor' | 'patch' | 'prerelease' | 'none' | 'downgrade';

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] ? m[4].split('.') : [],
    build: m[5] ? m[5].split('.') : [],
    raw: text,
  };
}

export function isSemVer(text: string): boolean {
  return SEMVER.test(text);
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Precedence as semver.org §11 defines it; build metadata is ignored. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return Math.sign(a[key] - b[key]);
  }
  if (a.prerelease.length === 0 && b.prerelease.length === 0) return 0;
  if (a.prerelease.length === 0) return 1;
  if (b.prerelease.length === 0) return -1;
  const n = Math.max(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareIdentifiers(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

export function compareVersions(a: string, b: string): number {
  const pa = parseSemVer(a);
  const pb = parseSemVer(b);
  if (!pa || !pb) throw new Error(`not a semantic version: ${!pa ? a : b}`);
  return compareSemVer(pa, pb);
}

/** The kind of change from `current` to `candidate`. */
export function classifyBump(current: string | undefined, candidate: string): Bump {
  const c = parseSemVer(candidate);
  if (!c) throw new Error(`not a semantic version: ${candidate}`);
  if (current === undefined) return c.prerelease.length ? 'prerelease' : 'major';
  const p = parseSemVer(current);
  if (!p) throw new Error(`not a semantic version: ${current}`);
  const order = compareSemVer(c, p);
  if (order === 0) return 'none';
  if (order < 0) return 'downgrade';
  if (c.prerelease.length > 0) return 'prerelease';
  if (c.major !== p.major) return 'major';
  if (c.minor !== p.minor) return 'minor';
  return 'patch';
}
