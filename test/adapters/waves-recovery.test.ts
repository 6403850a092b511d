import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { createHandler } from '../../functions/promote/handler';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { dynamoStores, type Stores } from '../../shared/aws/dynamo-store';
import { waveKeys } from '../../shared/aws/wave-store';
import { parseCatalog } from '../../shared/domain/catalog';
import { InvalidStepInput } from '../../shared/domain/errors';
import { WAVE_RETENTION_DAYS } from '../../shared/domain/waves';
import type { RegistryEntry } from '../../shared/domain/workflow';
import type { EventPublisher } from '../../shared/ports';
import { finishSoak, onUpgradeEvent, promote, type SoakPorts } from '../../shared/usecases/waves';

/**
 * The promotion waves' use cases on the real wave store (dynalite): what a failed PutEvents, a
 * crash between writes, two deliveries at once, a failed newer version, a malformed event and a
 * stage held by `after` leave behind (docs/waves.md, decisions 0032-0033).
 */

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
const minutes = (n: number) => new Date(Date.parse(T0) + n * 60_000).toISOString();

interface Sent {
  detailType: string;
  detail: Record<string, unknown>;
}

/**
 * The use case's ports: the wave store on dynalite; the demo catalog's checkout (a function per
 * environment) under `component`'s name with `promotion`; CI's request of each workflow; a bus
 * that records what was put, and fails while `failing()` says so.
 */
function harness(
  component: string,
  promotion: Record<string, unknown>,
  options: {
    failing?: (detailType: string) => boolean;
    commit?: string;
    registry?: RegistryEntry;
    /** Other components of the catalog (the demo's checkout under their names), by promotion policy. */
    others?: Record<string, Record<string, unknown>>;
  } = {},
) {
  // The demo's checkout under each name, with its promotion policy, in one catalog.
  const doc = structuredClone(demoCatalog) as unknown as {
    components: Record<string, Record<string, unknown>>;
  };
  for (const [name, policy] of Object.entries({ ...options.others, [component]: promotion })) {
    doc.components[name] = { ...structuredClone(doc.components.checkout), promotion: policy };
  }
  const catalog = parseCatalog(doc);
  const sent: Sent[] = [];
  let now = Date.parse(T0);
  const events: EventPublisher = {
    publish: async (entries) => {
      for (const e of entries) {
        if (options.failing?.(e.detailType)) throw new Error('PutEvents: ThrottlingException');
      }
      for (const e of entries)
        sent.push({ detailType: e.detailType, detail: e.detail as Record<string, unknown> });
    },
  } as EventPublisher;
  const ports: SoakPorts = {
    waves: stores.waves,
    catalog: { getComponent: async (name) => catalog.components[name] },
    workflows: {
      get: async (id: string) =>
        ({
          workflowId: id,
          eventId: `ev-${id}`,
          evidence: {
            request: {
              workflowId: id,
              component,
              environment: 'development',
              version: '1.1.0',
              artifact: { type: 'lambda', functionName: 'checkout-development', functionVersion: '7' },
              platform: 'lambda',
              source: 'ci.github',
              eventId: `ev-${id}`,
              receivedAt: T0,
              bump: 'minor',
              mode: 'upgrade',
              currentVersion: '1.0.0',
              ...(options.commit ? { commit: options.commit } : {}),
            },
          },
        }) as never,
    },
    registry: { get: async () => options.registry },
    events,
    alarms: { describe: async () => [] } as never,
    clock: { now: () => new Date(now) },
  };
  return {
    ports,
    sent,
    rollbacks: () => sent.filter((s) => s.detailType === 'Rollback Requested').map((s) => s.detail),
    published: () => sent.filter((s) => s.detailType === 'Version Published').map((s) => s.detail),
    /** The first stage's status in each `Promotion Wave Updated` of `waveId`. */
    announced: (waveId: string) =>
      sent
        .filter((s) => s.detailType === 'Promotion Wave Updated' && s.detail.waveId === waveId)
        .map((s) => (s.detail.stages as { status: string }[])[0]?.status),
    advance: (n: number) => {
      now += n * 60_000;
      return new Date(now).toISOString();
    },
    now: () => new Date(now).toISOString(),
  };
}

function upgradeEvent(
  type: string,
  detail: { workflowId: string; component: string; environment: string; version: string; outcome?: string },
  time = T0,
) {
  return {
    id: `${type}-${detail.workflowId}`,
    'detail-type': type,
    source: 'upshift',
    time,
    detail: { reasons: [], ...detail },
  } as never;
}

/**
 * CI's upgrade of `version` in development started and completed: the wave soaks there. CI named
 * the later stages' artifacts in the starting event (each environment deploys its own function).
 */
async function completedInDevelopment(
  ports: SoakPorts,
  component: string,
  workflowId: string,
  version: string,
  time = T0,
) {
  await stores.waves.saveEventArtifacts(
    `ev-${workflowId}`,
    {
      staging: { type: 'lambda', functionName: 'checkout-staging', functionVersion: '12' },
      production: { type: 'lambda', functionName: 'checkout-production', functionVersion: '9' },
    },
    0,
  );
  const stage = { workflowId, component, environment: 'development', version };
  await onUpgradeEvent(upgradeEvent('Upgrade Started', stage, time), ports);
  await onUpgradeEvent(upgradeEvent('Upgrade Completed', { ...stage, outcome: 'COMPLETED' }, time), ports);
}

/** Ends every soak due by `now`, as the reconciler's tick does. */
async function tick(ports: SoakPorts, now: string) {
  const due = await stores.waves.listDueSoaks(now, 100);
  for (const soak of due.items) await finishSoak(soak, ports);
  return due.items;
}

async function rawItem(key: { pk: string; sk: string }) {
  const out = await dynamo.document.send(new GetCommand({ TableName: dynamo.tableName, Key: key }));
  return out.Item;
}

const soakless = {
  order: ['development', 'staging', 'production'],
  soakMinutes: 0,
  coordinatedRollback: true,
};

/** Development soaked and staging was published; then staging's upgrade FAILED. */
async function failedInStaging(h: ReturnType<typeof harness>, component: string, workflowId: string) {
  await completedInDevelopment(h.ports, component, workflowId, '1.1.0');
  await tick(h.ports, T0);
  return upgradeEvent('Upgrade Failed', {
    workflowId: `${workflowId}-stg`,
    component,
    environment: 'staging',
    version: '1.1.0',
    outcome: 'FAILED',
  });
}

describe('coordinated rollbacks', () => {
  it('a Rollback Requested whose PutEvents failed is sent by the retry of the same event', async () => {
    // Prepare
    let down = false;
    const h = harness('rb-retry', soakless, { failing: () => down });
    const failed = await failedInStaging(h, 'rb-retry', 'r1');
    // Act: the first delivery halts the wave, but PutEvents is down; Lambda retries the event
    down = true;
    await expect(onUpgradeEvent(failed, h.ports)).rejects.toThrow('ThrottlingException');
    const between = await stores.waves.get('wave-r1');
    down = false;
    await onUpgradeEvent(failed, h.ports);
    // Assess
    expect(between?.status).toBe('HALTED');
    expect(between?.stages[0]?.rollback).toMatchObject({ sent: false });
    expect(between?.stages[0]?.rollback?.claimedAt).toBeUndefined();
    expect(h.rollbacks()).toEqual([
      expect.objectContaining({ component: 'rb-retry', environment: 'development', toVersion: '1.0.0' }),
    ]);
    expect((await stores.waves.get('wave-r1'))?.stages[0]?.rollback?.sent).toBe(true);
  });

  it('without a retry, the reconciler sends it when its due item comes up', async () => {
    // Prepare
    let down = false;
    const h = harness('rb-due', soakless, { failing: () => down });
    const failed = await failedInStaging(h, 'rb-due', 'r2');
    down = true;
    await expect(onUpgradeEvent(failed, h.ports)).rejects.toThrow('ThrottlingException');
    down = false;
    // Act: the retries are exhausted; the reconciler's tick after the claim's time
    const due = await tick(h.ports, h.advance(10));
    const again = await tick(h.ports, h.advance(10));
    // Assess
    expect(due.map((s) => s.environment)).toEqual(['development']);
    expect(h.rollbacks()).toEqual([
      expect.objectContaining({ environment: 'development', toVersion: '1.0.0' }),
    ]);
    expect(again).toEqual([]);
  });

  it('two deliveries at once send one Rollback Requested', async () => {
    // Prepare
    const h = harness('rb-twice', soakless);
    const failed = await failedInStaging(h, 'rb-twice', 'r3');
    // Act
    await Promise.all([onUpgradeEvent(failed, h.ports), onUpgradeEvent(failed, h.ports)]);
    await tick(h.ports, h.advance(10));
    // Assess
    expect(h.rollbacks()).toHaveLength(1);
    expect(h.rollbacks()[0]).toMatchObject({ toVersion: '1.0.0', metadata: { wave: 'wave-r3' } });
  });
});

describe('the head and superseding', () => {
  it('a crash before the head moved is repaired by the retry: the older wave is superseded', async () => {
    // Prepare: 1.1.0's wave holds the head
    const h = harness('head-crash', { order: ['development', 'staging'], soakMinutes: 60 });
    await completedInDevelopment(h.ports, 'head-crash', 'a1', '1.1.0');
    const setHead = stores.waves.setHead.bind(stores.waves);
    const linkStage = stores.waves.linkStage.bind(stores.waves);
    const stage = { workflowId: 'a2', component: 'head-crash', environment: 'development', version: '1.2.0' };
    const completed = upgradeEvent('Upgrade Completed', { ...stage, outcome: 'COMPLETED' });
    try {
      // Act: 1.2.0's start crashes before its link, its completion before the head moved
      stores.waves.linkStage = async () => {
        throw new Error('crash');
      };
      await expect(onUpgradeEvent(upgradeEvent('Upgrade Started', stage), h.ports)).rejects.toThrow('crash');
      stores.waves.linkStage = linkStage;
      await onUpgradeEvent(upgradeEvent('Upgrade Started', stage), h.ports);
      stores.waves.setHead = async () => {
        throw new Error('crash');
      };
      await expect(onUpgradeEvent(completed, h.ports)).rejects.toThrow('crash');
    } finally {
      stores.waves.setHead = setHead;
      stores.waves.linkStage = linkStage;
    }
    await onUpgradeEvent(completed, h.ports);
    // Assess
    expect(await stores.waves.findStage('head-crash', 'development', '1.2.0')).toBe('wave-a2');
    expect(await stores.waves.head('head-crash')).toEqual({ waveId: 'wave-a2', version: '1.2.0' });
    expect((await stores.waves.get('wave-a1'))?.status).toBe('SUPERSEDED');
    expect((await stores.waves.get('wave-a2'))?.status).toBe('ACTIVE');
  });

  it('two newer versions completing at once: the newest holds the head, and supersedes the others', async () => {
    // Prepare
    const h = harness('head-race', { order: ['development', 'staging'], soakMinutes: 60 });
    await completedInDevelopment(h.ports, 'head-race', 'b0', '1.0.5');
    const b1 = { workflowId: 'b1', component: 'head-race', environment: 'development', version: '1.1.0' };
    const b2 = { workflowId: 'b2', component: 'head-race', environment: 'development', version: '1.2.0' };
    await Promise.all([
      onUpgradeEvent(upgradeEvent('Upgrade Started', b1), h.ports),
      onUpgradeEvent(upgradeEvent('Upgrade Started', b2), h.ports),
    ]);
    // Act
    await Promise.all([
      onUpgradeEvent(upgradeEvent('Upgrade Completed', { ...b1, outcome: 'COMPLETED' }), h.ports),
      onUpgradeEvent(upgradeEvent('Upgrade Completed', { ...b2, outcome: 'COMPLETED' }), h.ports),
    ]);
    // Assess
    expect(await stores.waves.head('head-race')).toEqual({ waveId: 'wave-b2', version: '1.2.0' });
    expect((await stores.waves.get('wave-b2'))?.status).toBe('ACTIVE');
    expect((await stores.waves.get('wave-b1'))?.supersededBy).toMatchObject({ version: '1.2.0' });
    expect((await stores.waves.get('wave-b0'))?.status).toBe('SUPERSEDED');
  });

  it('a newer version that fails in its first stage leaves the older wave promoting', async () => {
    // Prepare: 1.1.0 soaks in development
    const h = harness('failed-newer', { order: ['development', 'staging'], soakMinutes: 60 });
    await completedInDevelopment(h.ports, 'failed-newer', 'c1', '1.1.0');
    const newer = {
      workflowId: 'c2',
      component: 'failed-newer',
      environment: 'development',
      version: '1.2.0',
    };
    // Act: 1.2.0 starts, then fails; 1.3.0 fails before its start reached Promote
    await onUpgradeEvent(upgradeEvent('Upgrade Started', newer), h.ports);
    const whileRunning = await stores.waves.get('wave-c1');
    await onUpgradeEvent(upgradeEvent('Upgrade Failed', { ...newer, outcome: 'FAILED' }), h.ports);
    const third = {
      workflowId: 'c3',
      component: 'failed-newer',
      environment: 'development',
      version: '1.3.0',
    };
    await onUpgradeEvent(upgradeEvent('Upgrade Failed', { ...third, outcome: 'FAILED' }), h.ports);
    await tick(h.ports, h.advance(61));
    // Assess
    expect(whileRunning?.status).toBe('ACTIVE');
    expect((await stores.waves.get('wave-c2'))?.status).toBe('HALTED');
    expect(await stores.waves.get('wave-c3')).toBeUndefined();
    expect(await stores.waves.head('failed-newer')).toEqual({ waveId: 'wave-c1', version: '1.1.0' });
    expect((await stores.waves.get('wave-c1'))?.stages.map((s) => s.status)).toEqual(['PASSED', 'PUBLISHED']);
    expect(h.published()).toEqual([expect.objectContaining({ environment: 'staging', version: '1.1.0' })]);
  });
});

describe('a version published again after its wave ended', () => {
  it('CI publishing 1.2.0 again after it halted in staging starts a new wave, which takes the link over and proceeds', async () => {
    // Prepare: 1.2.0 completed in development and FAILED in staging: its wave halted there. (The
    // use case alone: Intake's dedupe decides beforehand whether CI's upgrade runs at all, and
    // keeps 1.2.0's claim in development after it COMPLETED there; the twin's test publishes to
    // the environment where the version failed.)
    const h = harness('again', soakless);
    await completedInDevelopment(h.ports, 'again', 'g1', '1.2.0');
    await tick(h.ports, T0);
    const old = { component: 'again', version: '1.2.0' };
    await onUpgradeEvent(
      upgradeEvent('Upgrade Started', { ...old, workflowId: 'g1-stg', environment: 'staging' }),
      h.ports,
    );
    await onUpgradeEvent(
      upgradeEvent('Upgrade Failed', {
        ...old,
        workflowId: 'g1-stg',
        environment: 'staging',
        outcome: 'FAILED',
      }),
      h.ports,
    );
    const halted = await stores.waves.get('wave-g1');
    // Act: CI publishes 1.2.0 to development again (a new workflow, its event naming the later
    // stages' artifacts again); its start is delivered twice
    await stores.waves.saveEventArtifacts(
      'ev-g2',
      {
        staging: { type: 'lambda', functionName: 'checkout-staging', functionVersion: '13' },
        production: { type: 'lambda', functionName: 'checkout-production', functionVersion: '10' },
      },
      0,
    );
    const again = { ...old, workflowId: 'g2', environment: 'development' };
    const at = h.advance(30);
    const first = await onUpgradeEvent(upgradeEvent('Upgrade Started', again, at), h.ports);
    const duplicate = await onUpgradeEvent(upgradeEvent('Upgrade Started', again, at), h.ports);
    // A late duplicate of the halted wave's own development completion changes neither wave
    const late = await onUpgradeEvent(
      upgradeEvent('Upgrade Completed', {
        ...old,
        workflowId: 'g1',
        environment: 'development',
        outcome: 'COMPLETED',
      }),
      h.ports,
    );
    await onUpgradeEvent(upgradeEvent('Upgrade Completed', { ...again, outcome: 'COMPLETED' }, at), h.ports);
    await tick(h.ports, h.advance(1));
    const staging = { ...old, workflowId: 'g2-stg', environment: 'staging' };
    const stagingLink = await stores.waves.findStage('again', 'staging', '1.2.0');
    await onUpgradeEvent(upgradeEvent('Upgrade Started', staging, h.advance(1)), h.ports);
    await onUpgradeEvent(
      upgradeEvent('Upgrade Completed', { ...staging, outcome: 'COMPLETED' }, h.advance(1)),
      h.ports,
    );
    await tick(h.ports, h.advance(1));
    // Assess
    expect(halted?.status).toBe('HALTED');
    expect(first).toEqual({ waveId: 'wave-g2', changed: true });
    expect(duplicate).toEqual({ waveId: 'wave-g2', changed: false });
    expect(late.changed).toBe(false);
    expect(stagingLink).toBe('wave-g2');
    expect(await stores.waves.findStage('again', 'development', '1.2.0')).toBe('wave-g2');
    expect((await stores.waves.get('wave-g1'))?.stages.map((s) => s.status)).toEqual(
      halted?.stages.map((s) => s.status),
    );
    expect((await stores.waves.get('wave-g2'))?.stages.map((s) => s.status)).toEqual([
      'PASSED',
      'PASSED',
      'PUBLISHED',
    ]);
    expect(await stores.waves.head('again')).toEqual({ waveId: 'wave-g2', version: '1.2.0' });
    expect(h.published().map((p) => [p.environment, (p.metadata as { wave: string }).wave])).toEqual([
      ['staging', 'wave-g1'],
      ['staging', 'wave-g2'],
      ['production', 'wave-g2'],
    ]);
    // The link a new wave took over no longer expires with the halted wave
    expect(await rawItem(waveKeys.stage('again', 'development', '1.2.0'))).not.toHaveProperty('expiresAt');
  });

  it("a promotion of the same version into an ended wave's stage starts no wave; CI publishing it after COMPLETED does", async () => {
    // Prepare: 1.2.0's wave COMPLETED (development, then staging)
    const h = harness('again-done', { order: ['development', 'staging'], soakMinutes: 0 });
    await completedInDevelopment(h.ports, 'again-done', 'k1', '1.2.0');
    await tick(h.ports, T0);
    const staging = {
      workflowId: 'k1-stg',
      component: 'again-done',
      environment: 'staging',
      version: '1.2.0',
    };
    await onUpgradeEvent(upgradeEvent('Upgrade Started', staging), h.ports);
    await onUpgradeEvent(upgradeEvent('Upgrade Completed', { ...staging, outcome: 'COMPLETED' }), h.ports);
    const completed = await stores.waves.get('wave-k1');
    // Act: an upgrade of the version started by a promotion (not CI) in development
    const ciRequest = h.ports.workflows.get;
    h.ports.workflows.get = async (id) => {
      const record = await ciRequest(id);
      if (id !== 'k2' || !record) return record;
      return {
        ...record,
        evidence: { request: { ...(record.evidence.request as object), source: 'upshift.promotion' } },
      } as never;
    };
    const promoted = await onUpgradeEvent(
      upgradeEvent('Upgrade Started', { ...staging, workflowId: 'k2', environment: 'development' }),
      h.ports,
    );
    h.ports.workflows.get = ciRequest;
    // ... and CI publishes it to development again
    const ci = await onUpgradeEvent(
      upgradeEvent('Upgrade Started', { ...staging, workflowId: 'k3', environment: 'development' }),
      h.ports,
    );
    // Assess
    expect(completed?.status).toBe('COMPLETED');
    expect(promoted).toEqual({ waveId: 'wave-k1', changed: false });
    expect(await stores.waves.get('wave-k2')).toBeUndefined();
    expect(ci).toEqual({ waveId: 'wave-k3', changed: true });
    expect((await stores.waves.get('wave-k3'))?.status).toBe('ACTIVE');
    expect(await stores.waves.findStage('again-done', 'development', '1.2.0')).toBe('wave-k3');
  });
});

describe('publishing a stage', () => {
  it('is marked sent; a PutEvents that failed is published again, one that succeeded never', async () => {
    // Prepare
    let down = false;
    const h = harness(
      'publish-once',
      { order: ['development', 'staging'], soakMinutes: 0 },
      {
        failing: (type) => down && type === 'Version Published',
      },
    );
    await completedInDevelopment(h.ports, 'publish-once', 'p1', '1.1.0');
    // Act: the first tick's PutEvents fails; the next publishes; a third finds it sent
    down = true;
    await expect(tick(h.ports, T0)).rejects.toThrow('ThrottlingException');
    const unsent = await stores.waves.get('wave-p1');
    down = false;
    await tick(h.ports, h.advance(1));
    await stores.waves.scheduleSoak({
      waveId: 'wave-p1',
      environment: 'development',
      component: 'publish-once',
      until: T0,
    });
    await tick(h.ports, h.advance(1));
    // Assess
    expect(unsent?.stages[1]).toMatchObject({ status: 'PUBLISHED' });
    expect(unsent?.stages[1]?.publishSent).toBeUndefined();
    expect(h.published()).toEqual([
      expect.objectContaining({
        environment: 'staging',
        artifact: { type: 'lambda', functionName: 'checkout-staging', functionVersion: '12' },
      }),
    ]);
    expect((await stores.waves.get('wave-p1'))?.stages[1]?.publishSent).toBe(true);
  });
});

describe('a stage held by `after`', () => {
  it('is looked at again every minute, announced once, and halts with AFTER_TIMEOUT at its deadline', async () => {
    // Prepare: pricing's wave of the same release never completes development
    const h = harness(
      'held',
      { order: ['development', 'staging'], soakMinutes: 0, after: ['held-pricing'], afterTimeoutMinutes: 3 },
      { commit: 'rel1', others: { 'held-pricing': { order: ['development', 'staging'] } } },
    );
    await onUpgradeEvent(
      upgradeEvent('Upgrade Started', {
        workflowId: 'hp',
        component: 'held-pricing',
        environment: 'development',
        version: '1.1.0',
      }),
      h.ports,
    );
    await completedInDevelopment(h.ports, 'held', 'hw', '1.1.0');
    // Act: a tick a minute, five times
    const dueAt: string[][] = [];
    for (let i = 0; i < 5; i++) {
      dueAt.push((await tick(h.ports, h.now())).map((s) => s.until));
      h.advance(1);
    }
    // Assess
    const wave = await stores.waves.get('wave-hw');
    expect(dueAt).toEqual([[T0], [minutes(1)], [minutes(2)], [minutes(3)], []]);
    expect(wave?.status).toBe('HALTED');
    expect(wave?.halted?.reasons[0]).toMatchObject({ code: 'AFTER_TIMEOUT' });
    expect(wave?.halted?.reasons[0]?.message).toContain('did not complete staging within 3 minutes');
    // Started, completed, began to wait, halted: a tick that changed nothing announces nothing
    expect(h.announced('wave-hw')).toEqual(['RUNNING', 'SOAKING', 'WAITING', 'PASSED']);
  });
});

describe('Promote on a Version Published it cannot read', () => {
  it('reports each problem by its field and throws nothing (Intake records the event INVALID)', async () => {
    // Prepare
    const h = harness('malformed', {});
    const base = { 'detail-type': 'Version Published', source: 'ci.github' };
    // Act
    const noArtifact = await promote(
      {
        ...base,
        id: 'e1',
        time: T0,
        detail: { component: 'c', version: '1.0.0', artifact: { type: 'lambda' } },
      },
      h.ports,
    );
    const badEnvelope = await promote({ ...base, id: '', time: 'yesterday', detail: {} }, h.ports);
    const badMap = await promote(
      {
        ...base,
        id: 'e2',
        time: T0,
        detail: { metadata: { artifacts: { staging: { type: 'lambda', functionName: 'x' } } } },
      },
      h.ports,
    );
    // Assess
    expect(noArtifact).toEqual({ kept: false });
    expect(badEnvelope).toMatchObject({ kept: false });
    expect((badEnvelope as { problems: string[] }).problems.join('\n')).toMatch(/^id: .*\n^time: /m);
    expect((badMap as { problems: string[] }).problems.join('\n')).toContain(
      'detail.metadata.artifacts.staging.functionVersion',
    );
  });

  it('the Promote handler answers the malformed event of the Version Published rule without an error', async () => {
    // Prepare: what the artifacts rule delivers when CI sends an event Intake finds INVALID
    const h = harness('malformed-handler', {});
    const event = {
      version: '0',
      id: 'e3',
      'detail-type': 'Version Published',
      source: 'ci.github',
      account: '123456789012',
      time: T0,
      region: 'eu-west-1',
      resources: [],
      detail: { component: 'checkout', version: 'not-a-version', metadata: 'oops' },
    };
    // Act
    const out = await createHandler(h.ports)(event, { awsRequestId: 'r', functionName: 'Promote' } as never);
    // Assess
    expect(out).toEqual({ kept: false, problems: ['detail.metadata: expected an object'] });
  });

  it("an upgrade event of Upshift's own that does not parse fails, naming the field", async () => {
    // Prepare
    const h = harness('malformed-own', {});
    // Act / Assess
    const error = await promote(
      { id: 'e', 'detail-type': 'Upgrade Started', source: 'upshift', time: T0, detail: {} },
      h.ports,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStepInput);
    expect(String((error as Error).message)).toContain('detail.workflowId');
  });
});

describe('expiry', () => {
  it(`an ended wave, its closed soaks and its links expire ${WAVE_RETENTION_DAYS} days after it ended; the head stays`, async () => {
    // Prepare
    const h = harness('expiry', { order: ['development', 'staging'], soakMinutes: 0 }, { commit: 'rel-x' });
    await completedInDevelopment(h.ports, 'expiry', 'x1', '1.1.0');
    await tick(h.ports, T0);
    // Act: staging completes; the wave ends
    const end = h.advance(30);
    await onUpgradeEvent(
      upgradeEvent(
        'Upgrade Completed',
        {
          workflowId: 'x1-stg',
          component: 'expiry',
          environment: 'staging',
          version: '1.1.0',
          outcome: 'COMPLETED',
        },
        end,
      ),
      h.ports,
    );
    // Assess
    const wave = await stores.waves.get('wave-x1');
    const expected = Date.parse(end) / 1000 + WAVE_RETENTION_DAYS * 86_400;
    expect(wave?.status).toBe('COMPLETED');
    expect((await rawItem(waveKeys.wave('wave-x1')))?.expiresAt).toBe(expected);
    expect((await rawItem(waveKeys.stage('expiry', 'development', '1.1.0')))?.expiresAt).toBe(expected);
    expect((await rawItem(waveKeys.stage('expiry', 'staging', '1.1.0')))?.expiresAt).toBe(expected);
    expect((await rawItem(waveKeys.release('rel-x', 'expiry')))?.expiresAt).toBe(expected);
    expect((await rawItem(waveKeys.soak('wave-x1', 'development')))?.expiresAt).toBe(
      Date.parse(T0) / 1000 + WAVE_RETENTION_DAYS * 86_400,
    );
    expect((await rawItem(waveKeys.head('expiry')))?.expiresAt).toBeUndefined();
  });
});
