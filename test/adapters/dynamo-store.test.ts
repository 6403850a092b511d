import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { dynamoStores, type Stores } from '../../shared/aws/dynamo-store';
import { parseCatalog } from '../../shared/domain/catalog';
import { LockHeld } from '../../shared/domain/errors';

let dynamo: LocalDynamo;
let stores: Stores;

beforeAll(async () => {
  dynamo = await startDynalite();
  stores = dynamoStores(dynamo.document, dynamo.tableName);
});
afterAll(async () => {
  await dynamo.close();
});

const lambda = (v: string) => ({ type: 'lambda' as const, functionName: 'checkout', functionVersion: v });

describe('DynamoDB repositories (against dynalite)', () => {
  it('stores the catalog and finds components by ECR repository', async () => {
    await stores.catalog.putComponents(parseCatalog(demoCatalog), 'test', '2026-12-02T10:00:00Z');
    expect((await stores.catalog.getComponent('checkout'))?.target).toEqual({
      type: 'lambda',
      functionName: 'checkout',
      alias: 'live',
    });
    expect(await stores.catalog.findComponentByRepository('storefront')).toBe('storefront');
    expect(await stores.catalog.findComponentByRepository('checkout')).toBeUndefined();
  });

  it('versions policies with who, when and the diff, and refuses a stale write', async () => {
    const { policies } = parseCatalog(demoCatalog);
    const production = policies.production;
    if (!production) throw new Error('demo catalog lacks production');
    const v1 = await stores.policies.put('production', production, 'ana', '2026-12-01T00:00:00Z');
    expect(v1.version).toBe(1);
    // Writing the same policy again creates no version.
    expect((await stores.policies.put('production', production, 'ana', '2026-12-01T01:00:00Z')).version).toBe(
      1,
    );
    const v2 = await stores.policies.put(
      'production',
      { ...production, bakeMinutes: 45 },
      'bob',
      '2026-12-02T00:00:00Z',
      {
        expectedVersion: 1,
        comment: 'longer bake',
      },
    );
    expect(v2.version).toBe(2);
    await expect(
      stores.policies.put('production', { ...production, bakeMinutes: 50 }, 'eve', 'now', {
        expectedVersion: 1,
      }),
    ).rejects.toMatchObject({ name: 'PolicyConflict' });
    const history = await stores.policies.history('production', 10);
    expect(history.map((h) => [h.version, h.updatedBy])).toEqual([
      [2, 'bob'],
      [1, 'ana'],
    ]);
    expect(history[0]?.changes).toEqual([{ path: 'bakeMinutes', before: 30, after: 45 }]);
    expect(history[0]?.comment).toBe('longer bake');
    expect((await stores.policies.get('production'))?.policy.bakeMinutes).toBe(45);
    expect((await stores.policies.list()).map((p) => p.environment)).toContain('production');
  });

  it('leases the lock: one holder, renewal by the holder, takeover after expiry, release by owner only', async () => {
    const t0 = new Date('2026-12-02T10:00:00Z');
    await stores.locks.acquire('checkout#staging', 'wf-a', t0, 60);
    await expect(stores.locks.acquire('checkout#staging', 'wf-b', t0, 60)).rejects.toBeInstanceOf(LockHeld);
    await stores.locks.acquire('checkout#staging', 'wf-a', new Date(t0.getTime() + 30_000), 60);
    expect(await stores.locks.release('checkout#staging', 'wf-b')).toBe(false);
    const later = new Date(t0.getTime() + 120_000);
    const lease = await stores.locks.acquire('checkout#staging', 'wf-b', later, 60);
    expect(lease.owner).toBe('wf-b');
    expect(await stores.locks.release('checkout#staging', 'wf-b')).toBe(true);
    expect(await stores.locks.get('checkout#staging')).toBeUndefined();
  });

  it('claims a dedupe key once', async () => {
    expect(await stores.dedupe.claim('checkout#dev#1.1.0', 'wf-1', 'now')).toEqual({
      claimed: true,
      workflowId: 'wf-1',
    });
    expect(await stores.dedupe.claim('checkout#dev#1.1.0', 'wf-2', 'now')).toEqual({
      claimed: false,
      workflowId: 'wf-1',
    });
    await stores.dedupe.release('checkout#dev#1.1.0', 'wf-2');
    expect((await stores.dedupe.claim('checkout#dev#1.1.0', 'wf-3', 'now')).claimed).toBe(false);
    await stores.dedupe.release('checkout#dev#1.1.0', 'wf-1');
    expect((await stores.dedupe.claim('checkout#dev#1.1.0', 'wf-3', 'now')).claimed).toBe(true);
  });

  it('seeds the registry once and promotes versions', async () => {
    const base = { version: '1.0.0', artifact: lambda('1'), at: 't0' };
    await stores.registry.seed({
      component: 'checkout',
      environment: 'dev',
      current: base,
      lastKnownGood: base,
    });
    await stores.registry.seed({
      component: 'checkout',
      environment: 'dev',
      current: { ...base, version: '9.9.9' },
      lastKnownGood: base,
    });
    const promoted = await stores.registry.promote({
      component: 'checkout',
      environment: 'dev',
      version: '1.1.0',
      artifact: lambda('7'),
      deploymentId: 'd-1',
      at: 't1',
    });
    expect(promoted.current.version).toBe('1.1.0');
    expect(promoted.previous?.version).toBe('1.0.0');
    expect(promoted.lastKnownGood.deploymentId).toBe('d-1');
    expect((await stores.registry.get('checkout', 'dev'))?.lastUpgradeAt).toBe('t1');
  });

  it('keeps workflow records with history and lists them newest first', async () => {
    for (const id of ['wf-old', 'wf-new']) {
      await stores.workflows.create({
        workflowId: id,
        status: 'RUNNING',
        reasons: [],
        startedAt: id === 'wf-old' ? '2026-12-01T00:00:00Z' : '2026-12-02T00:00:00Z',
        history: [{ stage: 'Intake', at: 'x', status: 'ACCEPTED', detail: '' }],
        evidence: {},
      });
    }
    await stores.workflows.append(
      'wf-new',
      { stage: 'Verify', at: 'y', status: 'PASS', detail: 'ok' },
      { verification: { verdict: 'PASS' } },
    );
    await stores.workflows.finish('wf-new', {
      outcome: 'COMPLETED',
      reasons: [{ code: 'DEPLOYED', message: 'm' }],
      at: 'z',
    });
    const record = await stores.workflows.get('wf-new');
    expect(record?.history.map((h) => h.stage)).toEqual(['Intake', 'Verify']);
    expect(record?.evidence).toEqual({ verification: { verdict: 'PASS' } });
    expect(record?.outcome).toBe('COMPLETED');
    expect((await stores.workflows.list(10)).map((r) => r.workflowId).slice(0, 2)).toEqual([
      'wf-new',
      'wf-old',
    ]);
  });

  it('never returns an approval task token, and decides an approval once', async () => {
    await stores.approvals.create(
      {
        approvalId: 'apr-1',
        workflowId: 'wf-new',
        component: 'checkout',
        environment: 'production',
        version: '1.1.0',
        status: 'PENDING',
        required: 2,
        groups: [],
        allowPublisher: false,
        approvers: [],
        requestedAt: '2026-12-02T10:00:00Z',
        expiresAt: '2026-12-03T10:00:00Z',
        evidence: {},
      },
      'secret-token',
    );
    expect((await stores.approvals.addApprover('apr-1', { by: 'ana', at: 't1' })).added).toBe(true);
    const again = await stores.approvals.addApprover('apr-1', { by: 'ana', at: 't2' });
    expect(again).toEqual({ added: false, approvers: [{ by: 'ana', at: 't1' }] });
    expect((await stores.approvals.addApprover('apr-1', { by: 'bob', at: 't3' })).approvers).toHaveLength(2);
    expect(JSON.stringify(await stores.approvals.get('apr-1'))).not.toContain('secret-token');
    expect(JSON.stringify(await stores.approvals.listPending(10))).not.toContain('secret-token');
    expect(await stores.approvals.decide('apr-1', { status: 'APPROVED', by: 'ana', at: 'now' })).toEqual({
      taskToken: 'secret-token',
    });
    expect(
      await stores.approvals.decide('apr-1', { status: 'REJECTED', by: 'bob', at: 'now' }),
    ).toBeUndefined();
    expect(await stores.approvals.listPending(10)).toEqual([]);
  });
});
