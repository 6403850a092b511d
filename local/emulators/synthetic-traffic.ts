/**
 * What the Lambda and ECS emulators share: the code a target runs per version, the synthetic live
 * traffic that produces its metrics, the routing timeline that says which version served when,
 * and the CloudWatch statistics over one period's requests.
 *
 * Live traffic is stationary by construction: request i of a period is the same request in every
 * period (its key names the target and i, never the period), and the split between versions is a
 * pure function of the weights in force at the period's start. So two periods with the same
 * routing give identical datapoints, and the CloudWatch emulator may stop evaluating idle alarms.
 */
import type { Component, Profile } from '../../shared/domain/catalog';
import { percentile, percentileOfSorted } from '../../shared/domain/statistics';
import { type Cart, liveCart, pricingFor } from '../demo-service/pricing';

/** A deterministic number in [0, 1) from a string: FNV-1a, then a mix step. */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 0x1_0000_0000;
}

/** A seeded random sequence, for generated payloads. */
export function seeded(seed: string): () => number {
  let n = 0;
  return () => unitHash(`${seed}#${n++}`);
}

/** One answer of a target's code: the payload it returns, or a function error, and its duration. */
export interface InvokeResult {
  payload?: unknown;
  /** As Lambda reports it: `Unhandled` for an uncaught error (the payload then describes it). */
  functionError?: 'Unhandled' | 'Handled';
  durationMs: number;
  /** Response headers, when the code answers over HTTP (an ECS service behind its listener). */
  headers?: Record<string, string>;
}

/** The code one version runs. `requestKey` makes its outcome reproducible. */
export interface FunctionCode {
  invoke(payload: unknown, requestKey: string): Promise<InvokeResult> | InvokeResult;
}

/** The synthetic live traffic a target receives from its users. */
export interface LiveTrafficSpec {
  requestsPerMinute: number;
  /** The payload of the i-th request of a period (the same i in every period). */
  request: (index: number) => unknown;
}

/** Request keys of the synthetic live traffic start with this; probes' and other callers' do not. */
export const LIVE_KEY_PREFIX = 'live#';

export function isLiveRequest(requestKey: string): boolean {
  return requestKey.startsWith(LIVE_KEY_PREFIX);
}

/** The live request key of request `index` to `target` (no period in it: see the file comment). */
export function liveRequestKey(target: string, index: number): string {
  return `${LIVE_KEY_PREFIX}${target}#${index}`;
}

/** The number of live requests in one period. */
export function requestsPerPeriod(requestsPerMinute: number, periodMs: number): number {
  return Math.max(0, Math.round((requestsPerMinute * periodMs) / 60_000));
}

/** A split of traffic: `[id, weight]` pairs, weights in 0..1 summing to 1, primary first. */
export type Split = readonly (readonly [string, number])[];

const permutations = new Map<number, number[]>();

/** 0..n-1 ordered by a hash of the index: a fixed, well-mixed order of a period's requests. */
function slotOrder(n: number): number[] {
  let order = permutations.get(n);
  if (!order) {
    const keyed = Array.from({ length: n }, (_, i) => ({ i, h: unitHash(`slot#${i}`) }));
    keyed.sort((a, b) => a.h - b.h || a.i - b.i);
    order = keyed.map((k) => k.i);
    if (permutations.size > 64) permutations.clear();
    permutations.set(n, order);
  }
  return order;
}

/**
 * Which id serves each of `total` requests: exact counts by largest remainder (so 10% of 120
 * requests is 12 requests, every period), spread over the period in a fixed hashed order.
 */
export function assignRequests(total: number, split: Split): string[] {
  const out = new Array<string>(total);
  const live = split.filter(([, w]) => w > 0);
  if (total === 0 || live.length === 0) return [];
  const sum = live.reduce((s, [, w]) => s + w, 0);
  const exact = live.map(([id, w]) => ({ id, share: (total * w) / sum }));
  const counts = exact.map((e) => Math.floor(e.share));
  let left = total - counts.reduce((s, c) => s + c, 0);
  const byRemainder = exact
    .map((e, index) => ({ index, rest: e.share - Math.floor(e.share) }))
    .sort((a, b) => b.rest - a.rest || a.index - b.index);
  for (const { index } of byRemainder) {
    if (left <= 0) break;
    counts[index] = (counts[index] ?? 0) + 1;
    left--;
  }
  const order = slotOrder(total);
  let cursor = 0;
  counts.forEach((count, index) => {
    const id = exact[index]?.id ?? '';
    for (let k = 0; k < count; k++) {
      const slot = order[cursor++];
      if (slot !== undefined) out[slot] = id;
    }
  });
  return out;
}

/** One change of routing: the split that serves from `atMs` on. */
export interface RoutingChange {
  atMs: number;
  split: [string, number][];
}

/** Which split served when, over virtual time (append-only). */
export class RoutingTimeline {
  constructor(private changes: RoutingChange[] = []) {}

  set(atMs: number, split: Split): void {
    this.changes.push({ atMs, split: split.map(([id, w]) => [id, w]) });
  }

  /** The split in force at `atMs` (the last change at or before it), or undefined before the first. */
  at(atMs: number): Split | undefined {
    let current: Split | undefined;
    for (const change of this.changes) {
      if (change.atMs <= atMs) current = change.split;
      else break;
    }
    return current;
  }

  /** The split in force now (the last change). */
  current(): Split | undefined {
    return this.changes[this.changes.length - 1]?.split;
  }

  toJSON(): RoutingChange[] {
    return this.changes.map((c) => ({ atMs: c.atMs, split: c.split.map(([id, w]) => [id, w]) }));
  }
}

/** One period's synthetic requests, as the metrics need them. */
export interface PeriodSample {
  count: number;
  /** 1 for a failed request, 0 for a good one, in request order. */
  failures: number[];
  /** Durations in ms, in request order. */
  durations: number[];
}

/**
 * Runs one period of live traffic: request i goes to `assigned[i]` and is handled by that id's code
 * with a key that does not depend on the period. Live code must answer synchronously (metrics are
 * computed on demand); an asynchronous answer is a wiring mistake and fails loudly.
 */
export function runPeriod(
  target: string,
  assigned: readonly string[],
  codeOf: (id: string) => FunctionCode,
  spec: LiveTrafficSpec,
): PeriodSample {
  const failures: number[] = [];
  const durations: number[] = [];
  assigned.forEach((id, i) => {
    const result = codeOf(id).invoke(spec.request(i), liveRequestKey(target, i));
    if (result instanceof Promise) {
      throw new Error(`live traffic of ${target}: the code of ${id} answered asynchronously`);
    }
    failures.push(result.functionError ? 1 : 0);
    durations.push(result.durationMs);
  });
  return { count: assigned.length, failures, durations };
}

/**
 * A CloudWatch statistic over the values published in one period: Sum, Average, Minimum, Maximum,
 * SampleCount or a percentile `pNN` / `pNN.N`. Undefined for no values or an unknown statistic.
 */
export function statistic(
  values: readonly number[],
  stat: string,
  /** The values are sorted ascending already: a percentile reads them in place. */
  sorted = false,
): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((s, v) => s + v, 0);
    case 'Average':
      return values.reduce((s, v) => s + v, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'SampleCount':
      return values.length;
  }
  const p = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
  if (p?.[1]) return sorted ? percentileOfSorted(values, Number(p[1])) : percentile(values, Number(p[1]));
  return undefined;
}

/** Whether `dimensions` has exactly the keys `names` (CloudWatch matches dimension sets exactly). */
export function hasExactDimensions(dimensions: Record<string, string>, names: readonly string[]): boolean {
  const keys = Object.keys(dimensions);
  return keys.length === names.length && names.every((n) => typeof dimensions[n] === 'string');
}

/** A map that forgets everything when it grows past `limit` (datapoint caches). */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit = 20_000) {}

  getOrCompute(key: string, compute: () => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A Lambda-style error payload for an uncaught error. */
export function errorPayload(errorType: string, errorMessage: string): Record<string, unknown> {
  return { errorType, errorMessage, trace: [] };
}

/**
 * The demo target code of a catalog component, per code label (the component version the code
 * is). `profiles`: the version's profile (`local.versions[label] ?? local.defaultProfile`); a
 * request fails when unitHash(`err#key`) is below the rate, the live `errorRate` for live requests
 * and `probeErrorRate` (else `errorRate`) for everything else, which is what probes are. Latency
 * is `latencyMs * (0.8 + 0.4 * unitHash('lat#key'))`. `demo-service`: the real pricing code of
 * that version, run on the payload.
 */
export function functionCodeFromCatalog(
  componentName: string,
  component: Component,
): (label: string) => FunctionCode {
  const local = component.local;
  if (local.kind === 'demo-service') {
    return (label) => {
      const price = pricingFor(label);
      return {
        invoke(payload, requestKey) {
          const cart = payload as Cart;
          const lines = Array.isArray(cart?.items) ? cart.items.length : 0;
          const durationMs = Math.round(20 + unitHash(`lat#${requestKey}`) * 15 + lines * 2);
          try {
            return { payload: { ...price(cart) }, durationMs };
          } catch (error) {
            const e = error as Error;
            return {
              functionError: 'Unhandled',
              payload: errorPayload(e.name || 'Error', e.message),
              durationMs,
            };
          }
        },
      };
    };
  }
  return (label) => {
    const profile: Profile = local.versions[label] ?? local.defaultProfile;
    return {
      invoke(_payload, requestKey) {
        const live = isLiveRequest(requestKey);
        const rate = live ? profile.errorRate : (profile.probeErrorRate ?? profile.errorRate);
        const durationMs = Math.round(profile.latencyMs * (0.8 + 0.4 * unitHash(`lat#${requestKey}`)));
        if (unitHash(`err#${requestKey}`) < rate) {
          return {
            functionError: 'Unhandled',
            payload: errorPayload('Error', `synthetic failure of ${componentName} ${label}`),
            durationMs,
          };
        }
        return {
          payload: { status: 'ok', component: componentName, version: label },
          durationMs,
          ...(profile.responseHeaders ? { headers: { ...profile.responseHeaders } } : {}),
        };
      },
    };
  };
}

/**
 * The live traffic of a catalog component: `local.requestsPerMinute`; the demo service gets the
 * module's generated carts (request i is always the same cart), profiles an empty event.
 */
export function liveTrafficFromCatalog(componentName: string, component: Component): LiveTrafficSpec {
  const local = component.local;
  return {
    requestsPerMinute: local.requestsPerMinute,
    request:
      local.kind === 'demo-service'
        ? (index) => liveCart(seeded(`cart#${componentName}#${index}`))
        : () => ({}),
  };
}
