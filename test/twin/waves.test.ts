import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack, type LocalStackOptions } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { PROMOTION_SOURCE, type Wave } from '../../shared/domain/waves';
import { lambdaVersionOf, versionPublished } from '../support/events';
import { mulberry32 } from '../support/seeded';
import { busEvents, deployments } from '../support/twin';

// A Wednesday: production's window (Sunday 02:00-04:00 UTC) is days away.
const START = new Date('2026-12-02T10:00:00Z');
const APPROVER = { approve: true, by: 'alice', groups: ['upshift-approvers', 'release-managers'] };
let stack: LocalStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Doc = {
  components: Record<string, Record<string, unknown>>;
  policies: Record<string, Record<string, unknown>>;
};

/** The demo catalog with checkout promoting by `promotion`; `edit` changes the rest. */
function promoting(
  promotion: Record<string, unknown>,
  edit: (doc: Doc) => void = () => undefined,
  layout: 'one function' | 'a function per environment' = 'one function',
) {
  const doc = structuredClone(demoCatalog) as unknown as Doc;
  (doc.components.checkout as Record<string, unknown>).promotion = promotion;
  if (layout === 'a function per environment') {
    edit(doc);
    return doc;
  }
  // A wave promotes one Lambda artifact through the environments: here each checkout environment
  // is an alias of one function (the demo catalog gives each environment its own function, whose
  // versions a wave would name per stage in metadata.artifacts).
  const environments = (doc.components.checkout as { environments: Record<string, Record<string, unknown>> })
    .environments;
  for (const [name, env] of Object.entries(environments)) {
    env.target = { type: 'lambda', functionName: 'checkout-development', alias: name };
    (env.baseline as { artifact: { functionName: string } }).artifact.functionName = 'checkout-development';
  }
  edit(doc);
  return doc;
}

async function open(catalog: unknown, options: Omit<Partial<LocalStackOptions>, 'catalog'> = {}) {
  stack = await LocalStack.start({ startAt: START, ...options, catalog: parseCatalog(catalog) });
  return stack;
}

/**
 * CI's Version Published to development of `component`, whose environments are `<component>-<env>`
 * functions (or aliases of `<component>-development`); with `later`, CI published the version on
 * each later stage's function too and names them in `metadata.artifacts`.
 */
function fromCi(version: string, component = 'checkout', later: string[] = []) {
  const event = versionPublished({ component, version, environment: 'development' });
  const n = lambdaVersionOf(version);
  const fn = (env: string) => ({ type: 'lambda', functionName: `${component}-${env}`, functionVersion: n });
  return {
    ...event,
    detail: {
      ...event.detail,
      artifact: fn('development'),
      ...(later.length
        ? { metadata: { artifacts: Object.fromEntries(later.map((env) => [env, fn(env)])) } }
        : {}),
    },
  };
}

async function waveOf(s: LocalStack, version: string): Promise<Wave | undefined> {
  return (await s.stores.waves.list(20)).find((w) => w.version === version);
}

const stage = (wave: Wave | undefined, environment: string) =>
  wave?.stages.find((st) => st.environment === environment);

/** What the bus carried from the promotion, as `environment version` lines. */
function promotions(s: LocalStack, detailType: string) {
  return busEvents(s)
    .filter((e) => e.source === PROMOTION_SOURCE && e['detail-type'] === detailType)
    .map((e) => e.detail as Record<string, unknown>);
}

const minutesBetween = (a: string | undefined, b: string | undefined) =>
  (Date.parse(String(b)) - Date.parse(String(a))) / 60_000;

describe('promotion waves through the twin', () => {
  it('1.1.0 completes in development, then in staging after the soak, then waits for production window and approval', async () => {
    // Prepare: checkout promotes development → staging → production, soaking 10 and 30 minutes
    const s = await open(promoting({ soakMinutes: { development: 10, staging: 30 } }), {
      autoAnswer: APPROVER,
    });
    // Act: CI publishes to development only
    const { record } = await s.run(fromCi('1.1.0'));
    await s.drain();
    // Assess: each stage ran, in order, each after the previous one's soak
    expect(record?.outcome).toBe('COMPLETED');
    const wave = await waveOf(s, '1.1.0');
    expect(wave?.status).toBe('COMPLETED');
    expect(wave?.stages.map((st) => [st.environment, st.status])).toEqual([
      ['development', 'PASSED'],
      ['staging', 'PASSED'],
      ['production', 'COMPLETED'],
    ]);
    const dev = stage(wave, 'development');
    const staging = stage(wave, 'staging');
    const production = stage(wave, 'production');
    expect(minutesBetween(dev?.endedAt, staging?.startedAt)).toBeGreaterThanOrEqual(10);
    expect(minutesBetween(staging?.endedAt, production?.startedAt)).toBeGreaterThanOrEqual(30);
    // The promotion's events carry the wave, from source upshift.promotion, to the next environment
    const published = promotions(s, 'Version Published');
    expect(published.map((d) => d.environment)).toEqual(['staging', 'production']);
    for (const d of published) {
      expect(d.metadata).toMatchObject({ wave: wave?.waveId });
      expect(d.publishedBy).toBe('ci@example.com');
    }
    // Production's own policy decided: deferred to Sunday's window, approved by a person
    const prodRecord = await s.stores.workflows.get(String(production?.workflowId));
    expect(prodRecord?.source).toBe(PROMOTION_SOURCE);
    expect(prodRecord?.history.some((h) => h.stage === 'Approval' || h.status === 'MANUAL_REVIEW')).toBe(
      true,
    );
    const deferred = busEvents(s).find(
      (e) =>
        e['detail-type'] === 'Upgrade Deferred' &&
        (e.detail as { environment?: string }).environment === 'production',
    );
    expect(deferred).toBeDefined();
    const shift = s.codedeploy.list().find((d) => d.deploymentGroupName === 'checkout-production');
    expect(new Date(Number(shift?.createTimeMs)).toISOString() >= '2026-12-06T02:00:00.000Z').toBe(true);
    expect(deployments(s).map((d) => [d.group, d.status, d.toVersion])).toEqual([
      ['checkout-development', 'Succeeded', '1.1.0'],
      ['checkout-staging', 'Succeeded', '1.1.0'],
      ['checkout-production', 'Succeeded', '1.1.0'],
    ]);
  }, 180_000);

  it('a faulty version halts at staging with the reason, and production is never touched', async () => {
    // Prepare: development bakes and soaks nothing, so 1.2.0 (30% errors on live traffic) passes it
    const s = await open(
      promoting({ soakMinutes: { development: 0, staging: 30 } }, (doc) => {
        doc.policies.development = { ...doc.policies.development, bakeMinutes: 0 };
      }),
      { autoAnswer: APPROVER },
    );
    // Act
    const { record } = await s.run(fromCi('1.2.0'));
    await s.drain();
    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const wave = await waveOf(s, '1.2.0');
    expect(wave?.status).toBe('HALTED');
    expect(wave?.halted?.environment).toBe('staging');
    expect(wave?.halted?.reasons[0]?.code).toBe('STAGE_ROLLED_BACK');
    expect(wave?.halted?.reasons[0]?.message).toContain('staging ended ROLLED_BACK');
    expect(stage(wave, 'staging')?.status).toBe('FAILED');
    expect(stage(wave, 'production')?.status).toBe('STOPPED');
    expect(promotions(s, 'Version Published').map((d) => d.environment)).toEqual(['staging']);
    expect(deployments(s).some((d) => d.group === 'checkout-production')).toBe(false);
    // Nothing ever ran in production: no workflow, and its registry entry was never even seeded.
    expect((await s.stores.workflows.list(50)).some((w) => w.environment === 'production')).toBe(false);
    expect(await s.stores.registry.get('checkout', 'production')).toBeUndefined();
  }, 180_000);

  it('each environment its own function: CI names the later stages artifacts, and the wave deploys each to its function', async () => {
    // Prepare: the demo catalog as it is (checkout-development, checkout-staging)
    const s = await open(
      promoting(
        { order: ['development', 'staging'], soakMinutes: { development: 10 } },
        undefined,
        'a function per environment',
      ),
    );
    // Act: CI puts the event on the bus (both rules see it: the state machine's and Promote's)
    await s.publish(fromCi('1.1.0', 'checkout', ['staging']) as Parameters<LocalStack['publish']>[0]);
    await s.drain();
    // Assess
    const wave = await waveOf(s, '1.1.0');
    expect(wave?.status).toBe('COMPLETED');
    expect(promotions(s, 'Version Published').map((d) => d.artifact)).toEqual([
      { type: 'lambda', functionName: 'checkout-staging', functionVersion: '7' },
    ]);
    expect(deployments(s).map((d) => [d.group, d.status, d.toVersion])).toEqual([
      ['checkout-development', 'Succeeded', '1.1.0'],
      ['checkout-staging', 'Succeeded', '1.1.0'],
    ]);
  }, 180_000);

  it('without the next stage artifact (each environment its own function), the wave halts saying what CI must send', async () => {
    // Prepare
    const s = await open(
      promoting(
        { order: ['development', 'staging'], soakMinutes: { development: 10 } },
        undefined,
        'a function per environment',
      ),
    );
    // Act: CI names only development's artifact
    await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    await s.drain();
    // Assess
    const wave = await waveOf(s, '1.1.0');
    expect(wave?.status).toBe('HALTED');
    expect(wave?.halted?.environment).toBe('staging');
    expect(wave?.halted?.reasons[0]).toMatchObject({ code: 'PROMOTION_NO_ARTIFACT' });
    expect(wave?.halted?.reasons[0]?.message).toContain(
      "development runs checkout-development:7, but staging deploys checkout-staging; publish the version there and name it in the starting event's metadata.artifacts.staging",
    );
    expect(promotions(s, 'Version Published')).toEqual([]);
  }, 180_000);

  it('an alarm in ALARM at the end of the soak halts the wave where it soaked, with the alarm named', async () => {
    // Prepare: development bakes nothing, so 1.2.0 completes there; its alarm fires during the soak
    const s = await open(
      promoting({ soakMinutes: { development: 10, staging: 30 } }, (doc) => {
        doc.policies.development = { ...doc.policies.development, bakeMinutes: 0 };
      }),
    );
    s.transport.record(true);
    // Act
    const { record } = await s.run(fromCi('1.2.0'));
    await s.drain();
    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const wave = await waveOf(s, '1.2.0');
    expect(wave?.status).toBe('HALTED');
    expect(wave?.halted?.environment).toBe('development');
    expect(wave?.halted?.reasons[0]?.code).toBe('SOAK_ALARM');
    expect(wave?.halted?.reasons[0]?.message).toContain('checkout-development-error-rate in ALARM');
    expect(wave?.stages.map((st) => st.status)).toEqual(['FAILED', 'STOPPED', 'STOPPED']);
    // The reconciler read the alarms with DescribeAlarms, as its role allows; nothing was published
    const reads = s.transport.calls.filter((c) => c.caller === 'Reconcile' && c.command === 'DescribeAlarms');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((c) => !c.denied)).toBe(true);
    expect(promotions(s, 'Version Published')).toEqual([]);
  }, 180_000);

  it('with coordinated rollback, a failure in production returns staging (and development) to the version before the wave', async () => {
    // Prepare: production's deployment group refuses the deployment for good
    const s = await open(
      promoting({ soakMinutes: { development: 10, staging: 30 }, coordinatedRollback: true }),
      { autoAnswer: APPROVER },
    );
    s.transport.injectFault({
      service: 'codedeploy',
      command: 'CreateDeployment',
      caller: 'Deploy',
      when: 'before',
      times: 20,
      match: (input) => input.deploymentGroupName === 'checkout-production',
      error: () =>
        Object.assign(new Error('No deployment group found for name: checkout-production'), {
          name: 'DeploymentGroupDoesNotExistException',
        }),
    });
    // Act
    await s.run(fromCi('1.1.0'));
    await s.drain();
    // Assess: halted in production, and the earlier environments rolled back to 1.0.0
    const wave = await waveOf(s, '1.1.0');
    expect(wave?.status).toBe('HALTED');
    expect(wave?.halted?.environment).toBe('production');
    expect(wave?.halted?.reasons[0]?.code).toBe('STAGE_FAILED');
    const rollbacks = promotions(s, 'Rollback Requested');
    expect(rollbacks.map((d) => [d.environment, d.toVersion])).toEqual([
      ['development', '1.0.0'],
      ['staging', '1.0.0'],
    ]);
    expect(stage(wave, 'staging')?.rollback).toMatchObject({ toVersion: '1.0.0', sent: true });
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.0.0');
    expect((await s.stores.registry.get('checkout', 'development'))?.current.version).toBe('1.0.0');
    expect((await s.stores.registry.get('checkout', 'production'))?.current.version).toBe('1.0.0');
  }, 180_000);

  it('a component that comes after another promotes a stage only once that wave of the same release completed it', async () => {
    // Prepare: inventory (a copy of checkout) soaks 40 minutes in development; checkout 10, after inventory
    const s = await open(
      promoting(
        { order: ['development', 'staging'], soakMinutes: { development: 10 }, after: ['inventory'] },
        (doc) => {
          const copy = JSON.parse(
            JSON.stringify(doc.components.checkout).replaceAll('checkout', 'inventory'),
          );
          copy.promotion = { order: ['development', 'staging'], soakMinutes: { development: 40 } };
          doc.components.inventory = copy;
        },
      ),
    );
    // Act: CI publishes both from the same commit; time stops between the two publications
    await s.startExecution(fromCi('1.1.0', 'inventory'));
    const thaw = s.scheduler.freeze();
    const second = s.startExecution(fromCi('1.1.0'));
    thaw();
    await second;
    await s.drain();
    // Assess: checkout waited in development for inventory's staging, then went on
    const all = await s.stores.waves.list(20);
    const checkout = all.find((w) => w.component === 'checkout');
    const inventory = all.find((w) => w.component === 'inventory');
    expect(checkout?.release).toBe('abc1234');
    expect(inventory?.release).toBe('abc1234');
    expect([checkout?.status, inventory?.status]).toEqual(['COMPLETED', 'COMPLETED']);
    const held = busEvents(s).filter(
      (e) =>
        e['detail-type'] === 'Promotion Wave Updated' &&
        (e.detail as { component?: string }).component === 'checkout' &&
        JSON.stringify((e.detail as { stages?: unknown }).stages).includes('"WAITING"'),
    );
    expect(held.length).toBeGreaterThan(0);
    expect(
      minutesBetween(stage(inventory, 'staging')?.endedAt, stage(checkout, 'staging')?.startedAt),
    ).toBeGreaterThanOrEqual(0);
    expect(
      minutesBetween(stage(checkout, 'development')?.endedAt, stage(checkout, 'staging')?.startedAt),
    ).toBeGreaterThan(10);
  }, 180_000);

  it('a version halted at staging (its approval expired) and published there again by CI starts a new wave, which proceeds', async () => {
    // Prepare: staging asks a person for every upgrade, whose approval expires in an hour; nobody
    // answers the first time
    const s = await open(
      promoting({ soakMinutes: { development: 0, staging: 10 } }, (doc) => {
        doc.policies.staging = {
          ...doc.policies.staging,
          autoApproveUpTo: 'NONE',
          approvalTimeoutMinutes: 60,
        };
      }),
    );
    await s.run(fromCi('1.1.0'));
    await s.drain();
    const halted = await waveOf(s, '1.1.0');
    // Act: CI publishes 1.1.0 to staging again (EXPIRED lets Intake take it), and a person answers
    s.options.autoAnswer = APPROVER;
    const again = versionPublished({ version: '1.1.0', environment: 'staging' });
    const { record } = await s.run({
      ...again,
      detail: {
        ...again.detail,
        artifact: {
          type: 'lambda',
          functionName: 'checkout-development',
          functionVersion: lambdaVersionOf('1.1.0'),
        },
      },
    });
    await s.drain();
    // Assess: the halted wave stays as it was; a new wave began at staging and reached production
    expect(halted?.status).toBe('HALTED');
    expect(halted?.halted?.reasons[0]?.code).toBe('STAGE_EXPIRED');
    expect(record?.source).not.toBe(PROMOTION_SOURCE);
    const waves = (await s.stores.waves.list(20)).filter((w) => w.version === '1.1.0');
    expect(waves).toHaveLength(2);
    const fresh = waves.find((w) => w.waveId !== halted?.waveId);
    expect((await s.stores.waves.get(String(halted?.waveId)))?.stages).toEqual(halted?.stages);
    expect(fresh?.status).toBe('COMPLETED');
    expect(fresh?.stages.map((st) => [st.environment, st.status])).toEqual([
      ['staging', 'PASSED'],
      ['production', 'COMPLETED'],
    ]);
    expect(stage(fresh, 'staging')?.workflowId).toBe(record?.workflowId);
    expect(await s.stores.waves.findStage('checkout', 'staging', '1.1.0')).toBe(fresh?.waveId);
    expect(
      promotions(s, 'Version Published').map((d) => [d.environment, (d.metadata as { wave: string }).wave]),
    ).toEqual([
      ['staging', halted?.waveId],
      ['production', fresh?.waveId],
    ]);
  }, 180_000);

  it('every event delivered twice: the wave ends the same, each stage deployed once', async () => {
    // Prepare: EventBridge's at-least-once delivery on every rule (Promote's, the state machine's).
    // Out-of-order delivery is covered by the domain's tests: the twin delivers a delayed event
    // only while virtual time passes, which it does not once every execution has ended.
    const s = await open(promoting({ order: ['development', 'staging'], soakMinutes: { development: 10 } }), {
      delivery: { duplicates: 1, random: mulberry32(7) },
    });
    // Act
    await s.run(fromCi('1.1.0'));
    await s.drain();
    // Assess
    const wave = await waveOf(s, '1.1.0');
    expect(wave?.status).toBe('COMPLETED');
    expect(wave?.stages.map((st) => [st.environment, st.status, st.outcome])).toEqual([
      ['development', 'PASSED', 'COMPLETED'],
      ['staging', 'COMPLETED', 'COMPLETED'],
    ]);
    const staging = await s.stores.workflows.get(String(stage(wave, 'staging')?.workflowId));
    expect(staging?.outcome).toBe('COMPLETED');
    expect(deployments(s).map((d) => d.group)).toEqual(['checkout-development', 'checkout-staging']);
  }, 180_000);

  it('a newer version supersedes an older wave that has not reached the next environment', async () => {
    // Prepare: development → staging, a long soak in development
    const s = await open(promoting({ order: ['development', 'staging'], soakMinutes: { development: 60 } }));
    // Act: 1.1.0 completes in development; time stops while CI publishes 1.1.1 there
    await s.startExecution(fromCi('1.1.0'));
    const thaw = s.scheduler.freeze();
    const second = s.startExecution(fromCi('1.1.1'));
    thaw();
    await second;
    await s.drain();
    // Assess: the older wave stopped promoting, the newer one reached staging
    const older = await waveOf(s, '1.1.0');
    const newer = await waveOf(s, '1.1.1');
    expect(older?.status).toBe('SUPERSEDED');
    expect(older?.supersededBy).toMatchObject({ version: '1.1.1', waveId: newer?.waveId });
    expect(stage(older, 'staging')?.status).toBe('STOPPED');
    expect(newer?.status).toBe('COMPLETED');
    expect(
      promotions(s, 'Version Published').map((d) => [d.environment, (d as { version?: string }).version]),
    ).toEqual([['staging', '1.1.1']]);
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.1');
  }, 180_000);
});
