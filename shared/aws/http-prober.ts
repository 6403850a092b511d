import { UnsupportedArtifact } from '../domain/errors';
import { fieldTypes, interleavedPlan, type ProbeSide, type ProbeTask } from '../domain/probes';
import type { ProbeSample } from '../domain/verification';
import type { PairedProber, ProbeRun, ProbeTarget } from '../ports';

/** What one request's answer became, before it is stamped with its probe and place. */
export type Answer = Omit<ProbeSample, 'probe' | 'seq' | 'phase'>;

/**
 * Runs a verification's requests in the interleaved order of `interleavedPlan`, at most
 * `concurrency` at a time; then each load probe's burst at its rate. Samples come back per side,
 * each stamped with its probe, its request index and its phase.
 */
export async function runInterleaved(
  run: ProbeRun,
  send: (task: ProbeTask, target: ProbeTarget) => Promise<Answer>,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<{ candidate: ProbeSample[]; baseline: ProbeSample[] }> {
  const out: Record<ProbeSide, ProbeSample[]> = { candidate: [], baseline: [] };
  const targetOf = (side: ProbeSide) => (side === 'candidate' ? run.candidate : run.baseline) as ProbeTarget;
  const one = async (task: ProbeTask) => {
    const answer = await send(task, targetOf(task.side));
    out[task.side].push({ ...answer, probe: task.probe.name, seq: task.seq, phase: task.phase });
  };
  const plan = interleavedPlan(run.probes, run.samples, run.baseline !== undefined);
  await pool(plan.steady, Math.max(1, run.concurrency), one);
  for (const burst of plan.bursts) {
    const rate = burst.probe.load?.ratePerSecond ?? 1;
    // Each version gets the stated rate: a pair of requests (candidate, baseline) per tick.
    const pairs = run.baseline ? 2 : 1;
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < burst.tasks.length; i++) {
      const due = started + (Math.floor(i / pairs) * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      inFlight.push(one(burst.tasks[i] as ProbeTask));
    }
    await Promise.all(inFlight);
  }
  const order = (a: ProbeSample, b: ProbeSample) => (a.seq ?? 0) - (b.seq ?? 0);
  out.candidate.sort(order);
  out.baseline.sort(order);
  return out;
}

async function pool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

export interface HttpProberOptions {
  /** The HTTP transport; Node's fetch by default (the twin passes one that reaches its services). */
  fetch?: typeof fetch;
  /**
   * The base URL of a load balancer listener, for ECS blue/green targets whose catalog names no
   * URL (the twin knows its listeners; on AWS the `--stack` mode resolves them with ELBv2).
   */
  listenerUrl?: (listenerArn: string) => string | undefined;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Sent with every request to the candidate through a test listener: what the candidate is. */
export const CANDIDATE_HEADER = 'x-upshift-candidate';

const BODY_LIMIT = 4096;

/**
 * Probes over HTTP: ECS blue/green through the test listener (candidate) and the production
 * listener (current version), EC2 and Lambda function URLs through the URLs the catalog names.
 * A status other than the expected one is a failed answer; 429 and 503 are throttling or no
 * version answering at all (a load balancer answers 503 when no target is registered behind the
 * listener: an ECS candidate that is not running yet), and network errors and timeouts are the
 * prober's own trouble: all are inconclusive samples, never the version's failure.
 */
export class HttpProber implements PairedProber {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: HttpProberOptions = {}) {
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? (() => performance.now());
  }

  async compare(run: ProbeRun): Promise<{ candidate: ProbeSample[]; baseline: ProbeSample[] }> {
    const bases = {
      candidate: this.endpoint(run, 'candidate'),
      baseline: run.baseline ? this.endpoint(run, 'baseline') : undefined,
    };
    return runInterleaved(
      run,
      (task) => this.send(task, bases[task.side] as Endpoint, run.timeoutMs),
      this.options.sleep,
    );
  }

  private endpoint(run: ProbeRun, side: ProbeSide): Endpoint {
    const t = (side === 'candidate' ? run.candidate : run.baseline) as ProbeTarget;
    const named = side === 'candidate' ? run.endpoints?.candidateUrl : run.endpoints?.baselineUrl;
    const headers: Record<string, string> = {};
    if (named) return { base: named, headers };
    if (t.target.type === 'ecs' && t.target.blueGreen) {
      const listener =
        side === 'candidate' ? t.target.blueGreen.testListenerArn : t.target.blueGreen.prodListenerArn;
      if (!listener) {
        throw new UnsupportedArtifact(
          `${t.component} has no test listener: give its blueGreen a testListenerArn, or name probes.http.candidateUrl`,
        );
      }
      const base = this.options.listenerUrl?.(listener);
      if (!base)
        throw new UnsupportedArtifact(`no address known for the listener ${listener}; name probes.http URLs`);
      if (side === 'candidate') headers[CANDIDATE_HEADER] = artifactRef(t);
      return { base, headers };
    }
    throw new UnsupportedArtifact(
      `${t.component} (${t.target.type}) names no URL for its ${side === 'candidate' ? 'candidate' : 'current version'}: set probes.http.${side === 'candidate' ? 'candidateUrl' : 'baselineUrl'}`,
    );
  }

  private async send(task: ProbeTask, endpoint: Endpoint, timeoutMs: number): Promise<Answer> {
    const req = task.probe.http ?? { method: 'GET', path: '/', headers: {}, expectStatus: 200 };
    const url = new URL(
      req.path,
      endpoint.base.endsWith('/') ? endpoint.base : `${endpoint.base}/`,
    ).toString();
    const headers: Record<string, string> = { ...endpoint.headers, ...req.headers };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
      if (typeof req.body !== 'string') headers['content-type'] ??= 'application/json';
    }
    const started = this.now();
    const elapsed = () => Math.round((this.now() - started) * 10) / 10;
    let res: Response;
    try {
      res = await this.fetch(url, {
        method: req.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const e = error as Error;
      const timeout = e.name === 'TimeoutError' || e.name === 'AbortError';
      return {
        ok: false,
        latencyMs: elapsed(),
        url,
        inconclusive: timeout ? 'TIMEOUT' : 'NETWORK',
        error: timeout ? `no answer within ${timeoutMs} ms` : `${e.name}: ${e.message}`,
      };
    }
    const text = await res.text().catch(() => '');
    const latencyMs = elapsed();
    const responseHeaders: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      responseHeaders[k.toLowerCase()] = v;
    });
    if (res.status === 429 || res.status === 503) {
      return {
        ok: false,
        latencyMs,
        url,
        status: res.status,
        inconclusive: 'THROTTLED',
        error: `HTTP ${res.status}${res.headers.get('retry-after') ? ` (Retry-After ${res.headers.get('retry-after')})` : ''}`,
      };
    }
    const parsed = parseBody(text, res.headers.get('content-type'));
    const types = fieldTypes(parsed);
    const ok = res.status === req.expectStatus;
    return {
      ok,
      latencyMs,
      url,
      status: res.status,
      headers: responseHeaders,
      body: parsed,
      ...(ok && types ? { fields: Object.keys(types), types } : {}),
      ...(ok ? {} : { error: `HTTP ${res.status} (expected ${req.expectStatus}): ${text.slice(0, 200)}` }),
    };
  }
}

interface Endpoint {
  base: string;
  headers: Record<string, string>;
}

/** What a version is, for the test listener: its task definition ARN or its image. */
function artifactRef(t: ProbeTarget): string {
  const a = t.artifact;
  switch (a.type) {
    case 'ecs':
      return a.taskDefinitionArn;
    case 'image':
      return a.imageUri ?? `${a.repository}@${a.digest}`;
    default:
      return t.version;
  }
}

function parseBody(text: string, contentType: string | null): unknown {
  if (!text) return undefined;
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not JSON after all: kept as text.
    }
  }
  return text.length > BODY_LIMIT ? text.slice(0, BODY_LIMIT) : text;
}
