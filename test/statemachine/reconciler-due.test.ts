import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESERVE_MS, type ReconcilePorts, reconcile } from '../../functions/reconcile/reconcile';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { dynamoStores, type Stores } from '../../shared/aws/dynamo-store';
import type { BakeResult } from '../../shared/domain/steps';
import type { TaskCallbacks } from '../../shared/ports';

/**
 * The reconciler's tick (decision 0018): it reads only what is due (the index's sort key is the
 * due time) and pages through all of it, within the invocation's remaining time. Real DynamoDB
 * adapters over dynalite; the answers go to a recording stand-in for Step Functions.
 */
const BAKE_END = new Date('2026-12-02T10:10:00.000Z');
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});

/** Step Functions as far as the reconciler sees it: every answer, by token. */
function recordingCallbacks() {
  const answers = new Map<string, unknown[]>();
  const callbacks: TaskCallbacks = {
    sendSuccess: async (token, output) => {
      answers.set(token, [...(answers.get(token) ?? []), output]);
    },
    sendFailure: async (token, error) => {
      answers.set(token, [...(answers.get(token) ?? []), { error }]);
    },
  };
  return { answers, callbacks };
}

function portsFor(stores: Stores, callbacks: TaskCallbacks, now: Date): ReconcilePorts {
  return {
    waits: stores.deploymentWaits,
    watches: stores.bakeWatches,
    approvals: stores.approvals,
    workflows: stores.workflows,
    catalog: stores.catalog,
    callbacks,
    alarms: {
      describe: async (names) =>
        names.map((name) => ({ name, state: 'OK', reason: 'fine', updatedAt: now.toISOString() })),
    },
    deployer: {
      createDeployment: async () => {
        throw new Error('the reconciler creates no deployment');
      },
      getDeployment: async (deploymentId) => ({ deploymentId, status: 'InProgress' }),
      stopDeployment: async () => ({ status: 'Succeeded' }),
    },
    clock: { now: () => now },
    pollSeconds: 30,
    reconcileSeconds: 300,
  };
}

/** `n` upgrades baking on their own table prefix, their bakes ending at `until`. */
async function bakes(stores: Stores, prefix: string, n: number, until: Date) {
  for (let i = 0; i < n; i++) {
    const workflowId = `${prefix}-${String(i).padStart(3, '0')}`;
    await stores.workflows.create({
      workflowId,
      status: 'RUNNING',
      reasons: [],
      startedAt: '2026-12-02T09:55:00.000Z',
      history: [],
      evidence: {},
    });
    await stores.bakeWatches.register(
      {
        workflowId,
        component: `svc-${prefix}-${i}`,
        environment: 'development',
        alarmNames: [`svc-${prefix}-${i}-development-errors`],
        until: until.toISOString(),
        status: 'PENDING',
      },
      `token-${workflowId}`,
    );
  }
}

describe('decision 0018: the reconciler finishes everything due, page by page, within its time', () => {
  it('250 due bakes are all finished in one tick; a bake not yet due is left alone', async () => {
    // Prepare: 250 bakes end at 10:10, one more at 10:40
    const stores = dynamoStores(dynamo.document, `${dynamo.tableName}`);
    await bakes(stores, 'due', 250, BAKE_END);
    await bakes(stores, 'later', 1, new Date(BAKE_END.getTime() + 30 * 60_000));
    const { answers, callbacks } = recordingCallbacks();

    // Act: one tick at 10:10, with a minute of the invocation left
    const result = await reconcile(portsFor(stores, callbacks, BAKE_END), { remainingMs: () => 60_000 });

    // Assess
    expect(result).toMatchObject({ bakes: 250, complete: true });
    expect(answers.size).toBe(250);
    expect(
      [...answers.values()].every((a) => a.length === 1 && (a[0] as BakeResult).status === 'PASSED'),
    ).toBe(true);
    expect(answers.has('token-later-000')).toBe(false);
    const left = await stores.bakeWatches.listPending(1000);
    expect(left.map((w) => w.workflowId).filter((id) => id.startsWith('due-'))).toEqual([]);
    expect(left.map((w) => w.workflowId)).toContain('later-000');
    const record = await stores.workflows.get('due-249');
    expect(record?.history.map((h) => `${h.stage}:${h.status}`)).toEqual(['Bake:PASSED']);
  });

  it('a tick that runs low on time stops, and the next tick goes on with what is left', async () => {
    // Prepare: 120 bakes due; the first tick has time for 40 of them
    const stores = dynamoStores(dynamo.document, dynamo.tableName);
    await bakes(stores, 'slow', 120, BAKE_END);
    const { answers, callbacks } = recordingCallbacks();
    const ports = portsFor(stores, callbacks, new Date(BAKE_END.getTime() + 60_000));
    const lowAfter40 = { remainingMs: () => (answers.size < 40 ? 60_000 : RESERVE_MS - 1) };

    // Act
    const first = await reconcile(ports, lowAfter40);
    const second = await reconcile(ports, { remainingMs: () => 60_000 });

    // Assess: nothing answered twice, nothing left
    expect(first).toMatchObject({ bakes: 40, complete: false });
    expect(second).toMatchObject({ bakes: 80, complete: true });
    expect([...answers.keys()].filter((t) => t.startsWith('token-slow-'))).toHaveLength(120);
    expect([...answers.values()].every((a) => a.length === 1)).toBe(true);
    expect(
      (await stores.bakeWatches.listPending(1000)).filter((w) => w.workflowId.startsWith('slow-')),
    ).toEqual([]);
  });
});
