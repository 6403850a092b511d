import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaProber } from '../../shared/aws/lambda-prober';

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
