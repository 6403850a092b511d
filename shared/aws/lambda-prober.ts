import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { UnsupportedArtifact } from '../domain/errors';
import { fieldTypes } from '../domain/probes';
import type { ProbeSample } from '../domain/verification';
import type { PairedProber, ProbeRun, Prober, ProbeTarget } from '../ports';
import { type Answer, runInterleaved } from './http-prober';

/**
 * Probes a Lambda version by invoking it with its version number as the qualifier, so the
 * candidate is exercised before any traffic reaches it. A function error is a failed answer;
 * throttling (TooManyRequestsException) and the prober's own network errors and timeouts are
 * inconclusive samples, never the version's failure.
 *
 * Latency is the function's own duration from the REPORT line of the log tail (`LogType: Tail`)
 * when Lambda returns it, so the network between the prober and Lambda does not blur the
 * comparison; the round trip otherwise.
 */
export class LambdaProber implements Prober, PairedProber {
  constructor(
    private readonly client: LambdaClient,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async run(
    target: ProbeTarget,
    requests: readonly { name: string; payload: unknown }[],
    samples: number,
  ): Promise<ProbeSample[]> {
    const { functionName, functionVersion } = lambdaArtifact(target);
    const out: ProbeSample[] = [];
    for (let i = 0; i < samples; i++) {
      for (const request of requests) {
        const answer = await this.invoke(functionName, functionVersion, request.payload, 30_000);
        out.push({ ...answer, probe: request.name, seq: i });
      }
    }
    return out;
  }

  async compare(run: ProbeRun): Promise<{ candidate: ProbeSample[]; baseline: ProbeSample[] }> {
    const candidate = lambdaArtifact(run.candidate);
    const baseline = run.baseline ? lambdaArtifact(run.baseline) : undefined;
    return runInterleaved(run, (task) => {
      const a = (task.side === 'candidate' ? candidate : baseline) as typeof candidate;
      return this.invoke(a.functionName, a.functionVersion, task.probe.payload, run.timeoutMs);
    });
  }

  private async invoke(
    functionName: string,
    qualifier: string,
    payload: unknown,
    timeoutMs: number,
  ): Promise<Answer> {
    const started = this.now();
    const elapsed = () => Math.round((this.now() - started) * 10) / 10;
    try {
      const res = await this.client.send(
        new InvokeCommand({
          FunctionName: functionName,
          Qualifier: qualifier,
          LogType: 'Tail',
          Payload: new TextEncoder().encode(JSON.stringify(payload ?? {})),
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
      const latencyMs = reportedDuration(res.LogResult) ?? elapsed();
      const text = res.Payload ? new TextDecoder().decode(res.Payload) : '';
      if (res.FunctionError) {
        return {
          ok: false,
          latencyMs,
          body: parse(text),
          error: `${res.FunctionError}: ${text.slice(0, 200)}`,
        };
      }
      const body = parse(text);
      const types = fieldTypes(body);
      return {
        ok: true,
        latencyMs,
        body,
        fields: types ? Object.keys(types) : [],
        ...(types ? { types } : {}),
      };
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      const latencyMs = elapsed();
      if (e.name === 'TooManyRequestsException' || e.$metadata?.httpStatusCode === 429) {
        return { ok: false, latencyMs, inconclusive: 'THROTTLED', error: `${e.name}: ${e.message}` };
      }
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        return { ok: false, latencyMs, inconclusive: 'TIMEOUT', error: `no answer within ${timeoutMs} ms` };
      }
      if (e.$metadata?.httpStatusCode === undefined) {
        return { ok: false, latencyMs, inconclusive: 'NETWORK', error: `${e.name}: ${e.message}` };
      }
      return { ok: false, latencyMs, error: e.message };
    }
  }
}

function lambdaArtifact(target: ProbeTarget) {
  if (target.artifact.type !== 'lambda') {
    throw new UnsupportedArtifact(`the Lambda prober cannot probe a ${target.artifact.type} artifact`);
  }
  return target.artifact;
}

/** `Duration: 12.34 ms` of the REPORT line in a base64 log tail. */
export function reportedDuration(logResult: string | undefined): number | undefined {
  if (!logResult) return undefined;
  const text = Buffer.from(logResult, 'base64').toString('utf8');
  const m = /REPORT RequestId:[^\n]*?\tDuration: ([\d.]+) ms/.exec(text);
  return m?.[1] ? Number(m[1]) : undefined;
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 4096);
  }
}
