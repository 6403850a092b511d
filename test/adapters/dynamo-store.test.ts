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
      functionName: 'checkout-development',
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

  it('decision 0018: a queue mark on the lock survives release, so the next holder looks at the queue', async () => {
    // Prepare: wf-a holds the lock, wf-b queues behind it
    const t0 = new Date('2026-12-02T11:00:00Z');
    const key = 'pricing#staging';
    const first = await stores.locks.acquire(key, 'wf-a', t0, 600);
    const waiting = await stores.locks.wait(
      key,
      { owner: 'wf-b', version: '2.0.0', since: t0.toISOString(), expiresAt: '2026-12-02T11:03:00.000Z' },
      t0,
    );

    // Act: wf-a releases; wf-c takes the free lock a minute later
    expect(await stores.locks.release(key, 'wf-a')).toBe(true);
    const next = await stores.locks.acquire(key, 'wf-c', new Date(t0.getTime() + 60_000), 600);

    // Assess: no mark on an uncontended lock; the mark outlives the release; extend keeps the lease
    expect(first.queuedUntil).toBeUndefined();
    expect(first.acquiredAt).toBe(t0.toISOString());
    expect(waiting.map((w) => w.owner)).toEqual(['wf-b']);
    expect(next.queuedUntil).toBe('2026-12-02T11:03:00.000Z');
    expect(await stores.locks.extend(key, 'wf-c', new Date(t0.getTime() + 120_000), 600)).toBe(true);
    expect(await stores.locks.extend(key, 'wf-a', new Date(t0.getTime() + 120_000), 600)).toBe(false);
    // Past the lease, extend refuses: the caller must take the lock again and look again.
    expect(await stores.locks.extend(key, 'wf-c', new Date(t0.getTime() + 3_600_000), 600)).toBe(false);
  });

  it('decision 0018: promote is one write, idempotent; the registry, policy, lock and component read together', async () => {
    // Prepare
    const base = { version: '1.0.0', artifact: lambda('1'), at: 't0' };
    expect(
      await stores.registry.seed({
        component: 'pricing',
        environment: 'dev',
        current: base,
        lastKnownGood: base,
      }),
    ).toBe(true);
    expect(
      await stores.registry.seed({
        component: 'pricing',
        environment: 'dev',
        current: base,
        lastKnownGood: base,
      }),
    ).toBe(false);
    await stores.locks.acquire('pricing#dev', 'wf-p', new Date('2026-12-02T12:00:00Z'), 60);
    const promote = {
      component: 'pricing',
      environment: 'dev',
      version: '1.1.0',
      artifact: lambda('7'),
      deploymentId: 'd-7',
      at: 't1',
    };

    // Act: promoted twice (a retried Record)
    await stores.registry.promote(promote);
    const again = await stores.registry.promote({ ...promote, at: 't2' });
    const facts = await stores.registry.readTogether('pricing', 'dev', {
      policy: true,
      lockKey: 'pricing#dev',
      component: true,
    });

    // Assess: previous never becomes the version itself
    expect(again.current).toMatchObject({ version: '1.1.0', deploymentId: 'd-7', at: 't1' });
    expect(again.previous?.version).toBe('1.0.0');
    expect(facts.registry?.current.version).toBe('1.1.0');
    expect(facts.lock?.owner).toBe('wf-p');
    expect(facts.policy).toBeUndefined(); // no policy for `dev` was written
    expect(facts.component?.target).toMatchObject({ type: 'lambda', functionName: 'pricing' });
  });

  it('decision 0018: an intent is recorded once; finish appends its line once', async () => {
    // Prepare
    await stores.workflows.create({
      workflowId: 'wf-once',
      status: 'RUNNING',
      reasons: [],
      startedAt: '2026-12-02T00:00:00Z',
      history: [],
      evidence: {},
    });

    // Act
    const first = await stores.workflows.recordOnce('wf-once', 'deployment', { attempt: 1 });
    const second = await stores.workflows.recordOnce('wf-once', 'deployment', { attempt: 2 });
    const line = { stage: 'Record', at: 'z', status: 'COMPLETED', detail: 'DEPLOYED' };
    const ended = await stores.workflows.finish('wf-once', {
      outcome: 'COMPLETED',
      reasons: [],
      at: 'z',
      history: [line],
    });
    const retried = await stores.workflows.finish('wf-once', {
      outcome: 'COMPLETED',
      reasons: [],
      at: 'later',
      history: [line],
    });

    // Assess
    expect(first).toEqual({ written: true, value: { attempt: 1 } });
    expect(second).toEqual({ written: false, value: { attempt: 1 } });
    expect(ended?.history).toEqual([line]);
    expect(retried?.history).toEqual([line]);
    expect(retried?.endedAt).toBe('z');
  });

  it('decision 0018: the due listing reads only what is due, and a claimed bake is due at once to be answered again', async () => {
    // Prepare: two bakes ending at 13:10 and 13:40
    for (const [id, until] of [
      ['wf-due', '2026-12-02T13:10:00.000Z'],
      ['wf-later', '2026-12-02T13:40:00.000Z'],
    ] as const) {
      await stores.bakeWatches.register(
        {
          workflowId: id,
          component: 'pricing',
          environment: 'qa',
          alarmNames: [`${id}-a`],
          until,
          status: 'PENDING',
        },
        `token-${id}`,
      );
    }

    // Act
    const before = await stores.bakeWatches.listDue('2026-12-02T13:09:59.000Z', 100);
    const due = await stores.bakeWatches.listDue('2026-12-02T13:10:00.000Z', 100);
    await stores.bakeWatches.claim('wf-due', '2026-12-02T13:10:05.000Z', { status: 'PASSED' });
    const claimed = await stores.bakeWatches.listDue('2026-12-02T13:10:05.000Z', 100);

    // Assess
    expect(before.items).toEqual([]);
    expect(due.items.map((w) => w.workflowId)).toEqual(['wf-due']);
    expect(claimed.items.map((w) => [w.workflowId, w.status])).toEqual([['wf-due', 'ANSWERING']]);
    expect((await stores.bakeWatches.findByAlarm('wf-later-a'))?.workflowId).toBe('wf-later');
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
