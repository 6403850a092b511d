import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { stepHandler } from '../../shared/runtime/middleware';
import { logLevelFromEnv, metricsEnabled } from '../../shared/runtime/observability';

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

describe('Powertools middleware', () => {
  it('maps UPSHIFT_LOG_LEVEL to Powertools levels, info by default', () => {
    // Assess
    expect(logLevelFromEnv({ UPSHIFT_LOG_LEVEL: 'silent' })).toBe('SILENT');
    expect(logLevelFromEnv({})).toBe('INFO');
    expect(metricsEnabled({ UPSHIFT_LOG_LEVEL: 'info' })).toBe(false);
    expect(metricsEnabled({ AWS_LAMBDA_FUNCTION_NAME: 'f', UPSHIFT_LOG_LEVEL: 'silent' })).toBe(false);
    expect(metricsEnabled({ AWS_LAMBDA_FUNCTION_NAME: 'f' })).toBe(true);
  });

  it('writes nothing when the twin silences it, even when the step fails', async () => {
    // Prepare
    process.env.UPSHIFT_LOG_LEVEL = 'silent';
    const handler = stepHandler('Test', z.object({ workflowId: z.string() }), async () => ({ ok: true }));
    // Act
    await handler({ workflowId: 'wf-1' }, context as never);
    await expect(handler({}, context as never)).rejects.toMatchObject({ name: 'InvalidStepInput' });
    // Assess
    expect(written).toEqual([]);
  });

  it('on Lambda logs JSON with the request id and workflow id, and emits EMF step metrics', async () => {
    // Prepare
    process.env.UPSHIFT_LOG_LEVEL = 'info';
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'upshift-test';
    const handler = stepHandler('Test', z.object({ workflowId: z.string() }), async () => ({ ok: true }));
    // Act
    await handler({ workflowId: 'wf-2' }, context as never);
    // Assess
    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ended = lines.find((l) => l.message === 'step ended');
    expect(ended).toMatchObject({
      workflowId: 'wf-2',
      step: 'Test',
      function_request_id: 'req-1',
      level: 'INFO',
    });
    const emf = lines.find((l) => '_aws' in l) as {
      _aws: { CloudWatchMetrics: { Namespace: string }[] };
      Step?: string;
    };
    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe('Upshift');
    expect(emf.Step).toBe('Test');
  });
});
