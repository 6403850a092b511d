import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';

const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The workflow's DynamoDB calls as `Function:Command` counts; the reconciler's apart (decision 0018). */
function dynamoCalls(s: LocalStack) {
  const workflow = new Map<string, number>();
  let reconciler = 0;
  for (const c of s.transport.calls) {
    if (c.service !== 'dynamodb' || c.caller === 'local-cli') continue;
    if (c.caller === 'Reconcile') {
      reconciler++;
      continue;
    }
    const key = `${c.caller}:${c.command}`;
    workflow.set(key, (workflow.get(key) ?? 0) + 1);
  }
  const total = [...workflow.values()].reduce((a, b) => a + b, 0);
  return { workflow, total, reconciler };
}

describe('decision 0018: DynamoDB calls of one upgrade', () => {
  it('one canary upgrade in staging (5-minute canary, 10-minute bake) makes at most 20 DynamoDB calls', async () => {
    // Prepare
    stack = await LocalStack.start({ catalog: parseCatalog(demoCatalog), startAt: START });
    stack.transport.record(true);

    // Act
    const { record } = await stack.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess: a count, not a timing
    expect(record?.outcome).toBe('COMPLETED');
    const { workflow, total } = dynamoCalls(stack);
    expect(total).toBeLessThanOrEqual(20);
    // What Intake resolved is carried: no step after it reads the catalog or the policy alone.
    for (const step of ['Verify', 'Decide', 'Deploy', 'StartBake', 'Record']) {
      expect(workflow.get(`${step}:GetItem`) ?? 0).toBe(0);
    }
    // Taking a free lock is one write; nothing is queued, so the queue is never read.
    expect([...workflow.keys()].filter((k) => k.startsWith('Lock:'))).toEqual(['Lock:UpdateItem']);
    expect(workflow.get('Lock:UpdateItem')).toBe(1);
    // The history still shows each stage, and the registry promoted the version.
    expect(record?.history.map((h) => `${h.stage}:${h.status}`)).toEqual([
      'Intake:ACCEPTED',
      'Lock:ACQUIRED',
      'Verify:PASS',
      'Decide:APPROVE',
      'Deploy:CREATED',
      'Deploy:Succeeded',
      'Bake:WATCHING',
      'Bake:PASSED',
      'Record:COMPLETED',
    ]);
    expect((await stack.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.0');
  });

  it('a second upgrade of the same target (its registry entry exists) makes fewer still', async () => {
    // Prepare
    stack = await LocalStack.start({ catalog: parseCatalog(demoCatalog), startAt: START });
    await stack.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    stack.transport.resetCounts();
    stack.transport.record(true);

    // Act
    const { record } = await stack.run(
      versionPublished({ version: '1.1.1', environment: 'staging', functionVersion: '8' }),
    );

    // Assess: no seed of the registry this time
    expect(record?.outcome).toBe('COMPLETED');
    const { workflow, total } = dynamoCalls(stack);
    expect(workflow.get('Intake:PutItem')).toBe(2);
    expect(total).toBeLessThanOrEqual(19);
  });
});
