import type { Component, Profile } from '../shared/domain/catalog';
import type { ProbeSample } from '../shared/domain/verification';
import type { Prober, ProbeTarget } from '../shared/ports';
import { type Cart, liveCart, pricingFor } from './demo-service/pricing';

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

export interface RequestResult {
  ok: boolean;
  latencyMs: number;
  body?: Record<string, unknown>;
  error?: string;
}

export type RequestKind = 'probe' | 'live';

/**
 * Local targets. A component with `local.kind: "profiles"` behaves by its catalog profile per
 * version; `demo-service` runs the real code in local/demo-service. Either way, a bad version
 * really produces the errors that trip an alarm.
 */
export class LocalTargets {
  constructor(private readonly components: () => Record<string, Component>) {}

  profile(component: string, version: string): Profile {
    const c = this.components()[component];
    if (!c) throw new Error(`unknown component ${component}`);
    return c.local.versions[version] ?? c.local.defaultProfile;
  }

  /** The error code a deployment of this version fails with locally, if its profile says so. */
  deployFailure(component: string, version: string): string | undefined {
    const c = this.components()[component];
    if (c?.local.kind !== 'profiles') return undefined;
    return this.profile(component, version).deployFailure;
  }

  /** Handles one request to one version of a component. `key` makes the outcome reproducible. */
  handle(
    component: string,
    version: string,
    kind: RequestKind,
    key: string,
    payload?: unknown,
  ): RequestResult {
    const c = this.components()[component];
    if (!c) throw new Error(`unknown component ${component}`);
    const jitter = unitHash(`lat#${key}`);
    if (c.local.kind === 'demo-service') {
      const cart = (payload as Cart | undefined) ?? liveCart(seeded(`cart#${key}`));
      const latencyMs = Math.round(20 + jitter * 15 + cart.items.length * 2);
      try {
        const quote = pricingFor(version)(cart);
        return { ok: true, latencyMs, body: { ...quote } };
      } catch (error) {
        return { ok: false, latencyMs, error: (error as Error).message };
      }
    }
    const profile = this.profile(component, version);
    const rate = kind === 'probe' ? (profile.probeErrorRate ?? profile.errorRate) : profile.errorRate;
    const latencyMs = Math.round(profile.latencyMs * (0.8 + 0.4 * jitter));
    if (unitHash(`err#${key}`) < rate) {
      return { ok: false, latencyMs, error: `synthetic failure of ${component} ${version}` };
    }
    return { ok: true, latencyMs, body: { status: 'ok', component, version } };
  }
}

/** The Prober port over local targets. */
export class LocalProber implements Prober {
  constructor(private readonly targets: LocalTargets) {}

  async run(
    target: ProbeTarget,
    requests: readonly { name: string; payload: unknown }[],
    samples: number,
  ): Promise<ProbeSample[]> {
    const out: ProbeSample[] = [];
    for (let i = 0; i < samples; i++) {
      for (const request of requests) {
        const key = `probe#${target.component}#${target.environment}#${target.version}#${request.name}#${i}`;
        const r = this.targets.handle(
          target.component,
          target.version,
          'probe',
          key,
          request.payload ?? undefined,
        );
        out.push({
          probe: request.name,
          ok: r.ok,
          latencyMs: r.latencyMs,
          ...(r.body ? { fields: Object.keys(r.body) } : {}),
          ...(r.error ? { error: r.error } : {}),
        });
      }
    }
    return out;
  }
}
