import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { UnsupportedArtifact } from '../domain/errors';
import type { ProbeSample } from '../domain/verification';
import type { Prober, ProbeTarget } from '../ports';

/**
 * Probes a Lambda version by invoking it with its version number as the qualifier, so the
 * candidate is exercised before any traffic reaches it. A function error counts as a failure.
 */
export class LambdaProber implements Prober {
  constructor(
    private readonly client: LambdaClient,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async run(
    target: ProbeTarget,
    requests: readonly { name: string; payload: unknown }[],
    samples: number,
  ): Promise<ProbeSample[]> {
    if (target.artifact.type !== 'lambda') {
      throw new UnsupportedArtifact(`the Lambda prober cannot probe a ${target.artifact.type} artifact`);
    }
    const { functionName, functionVersion } = target.artifact;
    const out: ProbeSample[] = [];
    for (let i = 0; i < samples; i++) {
      for (const request of requests) {
        const started = this.now();
        try {
          const res = await this.client.send(
            new InvokeCommand({
              FunctionName: functionName,
              Qualifier: functionVersion,
              Payload: new TextEncoder().encode(JSON.stringify(request.payload ?? {})),
            }),
          );
          const latencyMs = Math.round(this.now() - started);
          const body = res.Payload ? new TextDecoder().decode(res.Payload) : '';
          if (res.FunctionError) {
            out.push({
              probe: request.name,
              ok: false,
              latencyMs,
              error: `${res.FunctionError}: ${body.slice(0, 200)}`,
            });
            continue;
          }
          const parsed = body ? (JSON.parse(body) as unknown) : undefined;
          const fields =
            parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
          out.push({ probe: request.name, ok: true, latencyMs, fields });
        } catch (error) {
          out.push({
            probe: request.name,
            ok: false,
            latencyMs: Math.round(this.now() - started),
            error: (error as Error).message,
          });
        }
      }
    }
    return out;
  }
}
