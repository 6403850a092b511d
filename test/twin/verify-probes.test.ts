import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { verifyOnTwin } from '../../cli/commands/verify';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import type { VerificationResult } from '../../shared/domain/verification';
import { versionPublished } from '../support/events';

const START = new Date('2026-12-02T10:00:00Z'); // a Wednesday
let stack: LocalStack;

beforeAll(async () => {
  stack = await LocalStack.start({ catalog: parseCatalog(demoCatalog), startAt: START });
});
afterAll(async () => {
  await stack?.close();
});

const verifyStage = (record: { history: { stage: string; status: string; detail: string }[] } | undefined) =>
  record?.history.find((h) => h.stage === 'Verify');

describe('verification on the twin with the demo catalog', () => {
  it('a pricing version that returns the total as a string is REJECTED with the field named', async () => {
    const { record } = await stack.run(
      versionPublished({ component: 'pricing', version: '2.3.0', environment: 'staging' }),
    );
    expect(record?.outcome).toBe('REJECTED');
    expect(record?.reasons[0]?.code).toBe('VERIFICATION_FAILED');
    expect(record?.reasons[0]?.message).toContain('field "total" is string');
    const verification = record?.evidence?.verification as VerificationResult | undefined;
    expect(verification?.checks?.find((c) => c.status === 'FAIL')).toMatchObject({
      check: 'shape',
      code: 'FIELD_TYPE_CHANGED',
      severity: 'error',
      action: 'REJECT',
    });
  });

  it('a checkout version 3× slower is REJECTED with both sides’ p95 in the reasons', async () => {
    const { record } = await stack.run(versionPublished({ version: '1.5.0', environment: 'staging' }));
    expect(record?.outcome).toBe('REJECTED');
    const verification = record?.evidence?.verification as VerificationResult;
    const latency = verification.checks?.find((c) => c.check === 'latency' && c.status === 'FAIL');
    expect(latency?.candidate?.p95).toBeGreaterThan(
      2.5 * (latency?.baseline?.p95 ?? Number.POSITIVE_INFINITY),
    );
    expect(record?.reasons[0]?.message).toContain(`p95 latency rose from ${latency?.baseline?.p95} ms`);
    expect(record?.reasons[0]?.message).toContain(`to ${latency?.candidate?.p95} ms`);
  });

  it('a warning-severity finding on a good version is shown and does not block', async () => {
    const { record } = await stack.run(
      versionPublished({ component: 'pricing', version: '2.1.0', environment: 'staging' }),
    );
    expect(record?.outcome).toBe('COMPLETED');
    const verify = verifyStage(record);
    expect(verify?.status).toBe('PASS');
    expect(verify?.detail).toContain('warning: probe "big-order"');
    const verification = record?.evidence?.verification as VerificationResult;
    expect(verification.findings.map((f) => f.code)).toEqual(['VERIFIED', 'VERIFICATION_NOTE']);
    expect(verification.checks?.find((c) => c.probe === 'big-order' && c.status === 'FAIL')).toMatchObject({
      check: 'same-as-baseline',
      severity: 'warning',
      action: 'NOTE',
    });
  });

  it('a good version passes and completes', async () => {
    const { record } = await stack.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    expect(verifyStage(record)?.status).toBe('PASS');
    expect(record?.outcome).toBe('COMPLETED');
  });

  it('an ECS component is probed over HTTP through its listeners (no NO_PROBER)', async () => {
    const good = await verifyOnTwin(stack, {
      component: 'storefront',
      environment: 'staging',
      candidate: '3.1.0',
    });
    expect(good.result.verdict).toBe('PASS');
    expect(good.result.findings.map((f) => f.code)).not.toContain('NO_PROBER');
    expect(good.result.checks?.find((c) => c.check === 'errors')?.candidate).toMatchObject({
      n: 40,
      errors: 0,
    });
    const bad = await verifyOnTwin(stack, {
      component: 'storefront',
      environment: 'staging',
      candidate: '3.2.0',
    });
    expect(bad.result.verdict).toBe('FAIL');
    expect(bad.result.findings[0]?.message).toContain('HTTP 500 (expected 200)');
    expect(bad.result.checks?.find((c) => c.check === 'errors')?.baseline).toMatchObject({
      n: 40,
      errors: 0,
    });
  });

  it('a throttled function leaves verification INCONCLUSIVE, never FAIL', async () => {
    stack.lambda.throttle('checkout-staging', true);
    try {
      const { result } = await verifyOnTwin(stack, {
        component: 'checkout',
        environment: 'staging',
        candidate: '1.3.0',
      });
      expect(result.verdict).toBe('INCONCLUSIVE');
      expect(result.findings[0]?.code).toBe('PROBES_INCONCLUSIVE');
      expect(result.checks?.every((c) => c.status === 'INCONCLUSIVE')).toBe(true);
    } finally {
      stack.lambda.throttle('checkout-staging', false);
    }
  });
});
