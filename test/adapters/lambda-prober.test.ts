import {
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaProber } from '../../shared/aws/lambda-prober';
import { probeSchema } from '../../shared/domain/catalog';

const lambda = mockClient(LambdaClient);
beforeEach(() => lambda.reset());

const target = {
  component: 'checkout',
  environment: 'staging',
  target: { type: 'lambda' as const, functionName: 'checkout', alias: 'live' },
  version: '1.1.0',
  artifact: { type: 'lambda' as const, functionName: 'checkout', functionVersion: '7' },
};

describe('Lambda prober', () => {
  it('invokes the published version by qualifier, never the alias', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"status":"ok","total":3}') as never });
    const samples = await new LambdaProber(new LambdaClient({ region: 'eu-west-1' })).run(
      target,
      [{ name: 'small-cart', payload: { cart: [1] } }],
      2,
    );
    expect(samples).toHaveLength(2);
    expect(samples[0]).toMatchObject({ probe: 'small-cart', ok: true, fields: ['status', 'total'] });
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('checkout');
    expect(input?.Qualifier).toBe('7');
    expect(new TextDecoder().decode(input?.Payload as Uint8Array)).toBe('{"cart":[1]}');
  });

  it('counts a function error as a failed probe', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode('{"errorMessage":"boom"}') as never,
    });
    const [sample] = await new LambdaProber(new LambdaClient({ region: 'eu-west-1' })).run(
      target,
      [{ name: 'p', payload: {} }],
      1,
    );
    expect(sample?.ok).toBe(false);
    expect(sample?.error).toContain('boom');
  });
});

describe('Lambda prober, paired', () => {
  const probe = probeSchema.parse({ name: 'small-cart', payload: { cart: [1] } });
  const baseline = {
    ...target,
    version: '1.0.0',
    artifact: { type: 'lambda' as const, functionName: 'checkout', functionVersion: '3' },
  };
  const report = (ms: number) =>
    Buffer.from(
      `START RequestId: r Version: 7\nEND RequestId: r\nREPORT RequestId: r\tDuration: ${ms} ms\tBilled Duration: 13 ms\t\n`,
    ).toString('base64');

  it('invokes both versions by qualifier, interleaved, with the log tail, and takes the REPORT duration', async () => {
    // Prepare
    lambda
      .on(InvokeCommand, { Qualifier: '7' })
      .resolves({
        StatusCode: 200,
        LogResult: report(12.5),
        Payload: new TextEncoder().encode('{"status":"ok"}') as never,
      })
      .on(InvokeCommand, { Qualifier: '3' })
      .resolves({
        StatusCode: 200,
        LogResult: report(4),
        Payload: new TextEncoder().encode('{"status":"ok"}') as never,
      });
    // Act
    const out = await new LambdaProber(new LambdaClient({ region: 'eu-west-1' })).compare({
      candidate: target,
      baseline,
      probes: [probe],
      samples: 2,
      concurrency: 1,
      timeoutMs: 1000,
    });
    // Assess
    const calls = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Qualifier)).toEqual(['7', '3', '7', '3']);
    expect(calls[0]).toMatchObject({ FunctionName: 'checkout', Qualifier: '7', LogType: 'Tail' });
    expect(new TextDecoder().decode(calls[0]?.Payload as Uint8Array)).toBe('{"cart":[1]}');
    expect(out.candidate.map((s) => s.latencyMs)).toEqual([12.5, 12.5]);
    expect(out.baseline.map((s) => s.latencyMs)).toEqual([4, 4]);
    expect(out.candidate[0]).toMatchObject({ ok: true, types: { status: 'string' }, seq: 0 });
  });

  it('a throttle is inconclusive evidence, not a failure of the version', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(
        new TooManyRequestsException({ $metadata: { httpStatusCode: 429 }, message: 'Rate Exceeded.' }),
      );
    const out = await new LambdaProber(new LambdaClient({ region: 'eu-west-1' })).compare({
      candidate: target,
      probes: [probe],
      samples: 1,
      concurrency: 1,
      timeoutMs: 1000,
    });
    expect(out.candidate[0]).toMatchObject({ ok: false, inconclusive: 'THROTTLED' });
    expect(out.candidate[0]?.error).toContain('TooManyRequestsException');
  });

  it('a network error is the prober’s own trouble; a missing version is a failure', async () => {
    lambda
      .on(InvokeCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'ECONNRESET' }))
      .rejects(
        new ResourceNotFoundException({ $metadata: { httpStatusCode: 404 }, message: 'Function not found' }),
      );
    const prober = new LambdaProber(new LambdaClient({ region: 'eu-west-1' }));
    const run = { candidate: target, probes: [probe], samples: 2, concurrency: 1, timeoutMs: 1000 };
    const out = await prober.compare(run);
    expect(out.candidate.map((s) => s.inconclusive ?? 'FAILED')).toEqual(['NETWORK', 'FAILED']);
  });
});
