import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

const context = {
  functionName: 'upshift-test',
  awsRequestId: 'req-1',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:upshift-test',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 30_000,
};
const saved = { ...process.env };
let written: string[];

/** A fresh copy of the modules, so each test sees the tracer unloaded and reads its own env. */
async function fresh() {
  vi.resetModules();
  const tracing = await import('../../shared/runtime/tracing');
  const middleware = await import('../../shared/runtime/middleware');
  return { ...tracing, ...middleware };
}

/** The names of a client's middleware (X-Ray adds its own when the client is traced). */
function middlewareNames(client: DynamoDBClient): string[] {
  return client.middlewareStack.identify();
}

beforeEach(() => {
  written = [];
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
});

describe('Powertools Tracer', () => {
  it('is on only inside Lambda, and off there with POWERTOOLS_TRACE_ENABLED=false', async () => {
    // Prepare
    const { tracingEnabled } = await fresh();
    // Assess
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' })).toBe(true);
    expect(
      tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'false' }),
    ).toBe(false);
  });

  it('outside Lambda (the twin, tests, the CLI) leaves clients as they are and writes nothing', async () => {
    // Prepare
    delete process.env.AWS_EXECUTION_ENV;
    process.env.UPSHIFT_LOG_LEVEL = 'silent';
    const { stepHandler, traceClient } = await fresh();
    const handler = stepHandler('Test', z.object({ workflowId: z.string() }), async () => ({ ok: true }));
    // Act
    await handler({ workflowId: 'wf-1' }, context as never);
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const traced = traceClient(client);
    // Assess: the same client, no X-Ray middleware, nothing printed.
    expect(traced).toBe(client);
    expect(middlewareNames(traced).join(' ')).not.toMatch(/XRay/i);
    expect(written).toEqual([]);
  });

  it('inside Lambda traces the handler and every client made after the first invocation began', async () => {
    // Prepare: Lambda's environment, without the X-Ray daemon (no segment: the tracer skips it).
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'upshift-test';
    process.env.UPSHIFT_LOG_LEVEL = 'silent';
    // Without a segment the X-Ray SDK complains on the console; on Lambda there always is one.
    for (const level of ['error', 'warn', 'log', 'info', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation(() => undefined);
    }
    const { stepHandler, traceClient } = await fresh();
    const seen: DynamoDBClient[] = [];
    const handler = stepHandler('Test', z.object({ workflowId: z.string() }), async () => {
      seen.push(traceClient(new DynamoDBClient({ region: 'us-east-1' })));
      return { ok: true };
    });
    // Act
    const result = await handler({ workflowId: 'wf-2' }, context as never);
    // Assess: the use case ran, and its client carries the X-Ray SDK's middleware.
    expect(result).toEqual({ ok: true });
    expect(middlewareNames(seen[0] as DynamoDBClient).join(' ')).toMatch(/XRay/i);
  });
});
