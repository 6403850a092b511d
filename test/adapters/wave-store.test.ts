import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApi } from '../../functions/approvals-api/api';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { dynamoStores, type Stores } from '../../shared/aws/dynamo-store';
import { promotionPolicySchema, startWave, supersede } from '../../shared/domain/waves';
import type { TaskCallbacks } from '../../shared/ports';

let dynamo: LocalDynamo;
let stores: Stores;

beforeAll(async () => {
  dynamo = await startDynalite();
  stores = dynamoStores(dynamo.document, dynamo.tableName);
});
afterAll(async () => {
  await dynamo.close();
});

const T0 = '2026-12-02T10:00:00.000Z';
function newWave(id: string, version = '1.1.0', at = T0) {
  return startWave({
    waveId: id,
    component: 'checkout',
    version,
    environment: 'development',
    order: ['development', 'staging', 'production'],
    policy: promotionPolicySchema.parse({}),
    workflowId: `wf-${id}`,
    at,
  });
}

describe('the wave store (dynalite)', () => {
  it('creates a wave once, and saves only from the revision it read: a second writer loses', async () => {
    // Prepare
    const wave = newWave('wave-a');
    // Act
    const first = await stores.waves.create(wave);
    const again = await stores.waves.create(wave);
    const read = await stores.waves.get('wave-a');
    const winner = supersede(read as typeof wave, { waveId: 'wave-b', version: '1.2.0' }, T0).wave;
    const saved = await stores.waves.save(winner);
    const stale = await stores.waves.save({ ...(read as typeof wave), status: 'COMPLETED' });
    // Assess
    expect([first, again]).toEqual([true, false]);
    expect(read).toEqual(wave);
    expect([saved, stale]).toEqual([true, false]);
    expect(await stores.waves.get('wave-a')).toMatchObject({ status: 'SUPERSEDED', rev: 1 });
  });

  it('finds a stage by its link, moves the head only from the one read, and lists newest first', async () => {
    // Prepare
    await stores.waves.create(newWave('wave-c', '1.3.0', '2026-12-02T11:00:00.000Z'));
    // Act
    await stores.waves.linkStage('checkout', 'staging', '1.3.0', 'wave-c');
    const moved = await stores.waves.setHead('checkout', { waveId: 'wave-c', version: '1.3.0' });
    const refused = await stores.waves.setHead('checkout', { waveId: 'wave-x', version: '1.4.0' }, 'wave-a');
    await stores.waves.linkRelease('abc1234', 'checkout', 'wave-c');
    // Assess
    expect(await stores.waves.findStage('checkout', 'staging', '1.3.0')).toBe('wave-c');
    expect(await stores.waves.findStage('checkout', 'production', '1.3.0')).toBeUndefined();
    expect([moved, refused]).toEqual([true, false]);
    expect(await stores.waves.head('checkout')).toEqual({ waveId: 'wave-c', version: '1.3.0' });
    expect(await stores.waves.releaseWave('abc1234', 'checkout')).toBe('wave-c');
    expect((await stores.waves.list(10)).map((w) => w.waveId)).toEqual(['wave-c', 'wave-a']);
  });

  it('lists a soak once it is due, moves it, and takes it off the list when closed', async () => {
    // Prepare
    const soak = {
      waveId: 'wave-c',
      environment: 'development',
      component: 'checkout',
      until: '2026-12-02T11:10:00.000Z',
    };
    await stores.waves.scheduleSoak(soak);
    // Act
    const early = await stores.waves.listDueSoaks('2026-12-02T11:09:59.000Z', 10);
    const due = await stores.waves.listDueSoaks('2026-12-02T11:10:00.000Z', 10);
    await stores.waves.scheduleSoak({ ...soak, until: '2026-12-02T11:11:00.000Z' });
    const moved = await stores.waves.listDueSoaks('2026-12-02T11:10:30.000Z', 10);
    await stores.waves.closeSoak('wave-c', 'development', '2026-12-02T11:11:00.000Z');
    await stores.waves.closeSoak('wave-c', 'development', '2026-12-02T11:11:00.000Z');
    // Assess
    expect(early.items).toEqual([]);
    expect(due.items).toEqual([expect.objectContaining(soak)]);
    expect(moved.items).toEqual([]);
    expect(await stores.waves.listPendingSoaks(10)).toEqual([]);
  });
});

describe('the approvals API reads waves', () => {
  const callbacks: TaskCallbacks = { sendSuccess: async () => {}, sendFailure: async () => {} };
  const ports = () => ({
    approvals: stores.approvals,
    workflows: stores.workflows,
    callbacks,
    clock: { now: () => new Date(T0) },
    waves: stores.waves,
  });
  const identity = { name: 'alice', groups: ['release-managers'], via: 'jwt' as const };

  it('GET /api/waves and /api/waves/{id} with an identity; 401 without; 404 for an unknown wave', async () => {
    // Act
    const list = await handleApi({ method: 'GET', path: '/api/waves', query: {}, identity }, ports());
    const one = await handleApi({ method: 'GET', path: '/api/waves/wave-c', query: {}, identity }, ports());
    const missing = await handleApi({ method: 'GET', path: '/api/waves/nope', query: {}, identity }, ports());
    const anonymous = await handleApi({ method: 'GET', path: '/api/waves', query: {} }, ports());
    // Assess
    expect(list.status).toBe(200);
    expect((list.body as { waves: { waveId: string }[] }).waves.map((w) => w.waveId)).toEqual([
      'wave-c',
      'wave-a',
    ]);
    expect(one).toMatchObject({ status: 200, body: { wave: { waveId: 'wave-c', version: '1.3.0' } } });
    expect(missing.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });
});
