import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';
import { deployments } from '../support/twin';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('issue 9 finding 8: Verify and Deploy agree on the target', () => {
  it("an artifact naming another function than the environment's target is INVALID, nothing probed or deployed", async () => {
    // Prepare: staging deploys checkout; the event names pricing's function
    stack = await LocalStack.start({
      catalog: parseCatalog(demoCatalog),
      startAt: new Date('2026-12-02T10:00:00Z'),
    });
    const event = versionPublished({ version: '1.1.0', environment: 'staging' }) as {
      detail: { artifact: { functionName: string } };
    };
    event.detail.artifact.functionName = 'pricing';
    stack.transport.record(true);
    // Act
    const { record } = await stack.run(event);
    // Assess
    expect(record?.outcome).toBe('INVALID');
    expect(record?.reasons[0]?.code).toBe('ARTIFACT_MISMATCH');
    expect(record?.reasons[0]?.message).toContain(
      'detail.artifact.functionName: expected "checkout-staging"',
    );
    expect(stack.transport.calls.filter((c) => c.service === 'lambda' && c.caller === 'Verify')).toEqual([]);
    expect(deployments(stack)).toEqual([]);
  });
});
