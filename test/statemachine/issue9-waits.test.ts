import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import type { SynthesizedApp } from '../../local/twin/synth';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';
import { deployments } from '../support/twin';

const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

async function open(
  catalog: unknown = demoCatalog,
  autoAnswer?: { approve: boolean; by: string },
  mutateTemplates?: (app: SynthesizedApp) => void,
): Promise<LocalStack> {
  stack = await LocalStack.start({
    catalog: parseCatalog(catalog),
    startAt: START,
    ...(autoAnswer ? { autoAnswer } : {}),
    ...(mutateTemplates ? { mutateTemplates } : {}),
  });
  return stack;
}

/** The reconciler's schedule rule, disabled: the reconciler never runs. */
function withoutReconciler(app: SynthesizedApp) {
  for (const resource of Object.values(app.stateless.Resources)) {
    if (resource.Type === 'AWS::Events::Rule' && resource.Properties?.ScheduleExpression) {
      resource.Properties.State = 'DISABLED';
    }
  }
}

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function withPolicy(environment: string, changes: Record<string, unknown>) {
  const catalog = structuredClone(demoCatalog) as unknown as {
    policies: Record<string, Record<string, unknown>>;
  };
  catalog.policies[environment] = { ...catalog.policies[environment], ...changes };
  return catalog;
}

/**
 * The first SendTaskSuccess made by `caller` fails without reaching Step Functions (a network
 * error after the wait was decided).
 */
function failFirstAnswer(s: LocalStack, caller: string) {
  s.transport.injectFault({
    service: 'states',
    command: 'SendTaskSuccess',
    caller,
    when: 'before',
    times: 1,
    error: () => Object.assign(new Error('socket hang up'), { name: 'Error' }),
  });
}

const minutes = (from: string | undefined, to: string | undefined) =>
  (Date.parse(to ?? '') - Date.parse(from ?? '')) / 60_000;

async function expectNothingLeft(s: LocalStack, component: string, environment: string) {
  expect(await s.stores.locks.get(`${component}#${environment}`)).toBeUndefined();
  expect(await s.stores.deploymentWaits.listPending(10)).toEqual([]);
  expect(await s.stores.bakeWatches.listPending(10)).toEqual([]);
}

describe('issue 9 finding 4: a wait is answered before it is closed', () => {
  it('a deployment wait whose answer fails is answered again by the reconciler, not left to its 4-hour timeout', async () => {
    // Prepare
    const s = await open();
    s.transport.record(true);
    failFirstAnswer(s, 'DeploymentEvents');

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess: the canary ends at 10:05; the reconciler answers within its next minutes
    expect(record?.outcome).toBe('COMPLETED');
    const answers = s.transport.calls.filter((c) => c.command === 'SendTaskSuccess').map((c) => c.caller);
    expect(answers.slice(0, 2)).toEqual(['DeploymentEvents', 'Reconcile']);
    const bakeStart = record?.history.find((h) => h.stage === 'Bake' && h.status === 'WATCHING')?.at;
    expect(minutes(START.toISOString(), bakeStart)).toBeLessThan(15);
    await expectNothingLeft(s, 'checkout', 'staging');
  });

  it('an approval whose answer fails is answered by the reconciler, not EXPIRED', async () => {
    // Prepare
    const s = await open(demoCatalog, { approve: true, by: 'ana@example.com' });
    s.transport.record(true);
    // The approver's answer goes out with the CLI's credentials
    failFirstAnswer(s, 'local-cli');

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    expect(record?.history.filter((h) => h.stage === 'Approval').map((h) => h.status)).toContain('APPROVED');
    expect(await s.stores.approvals.listPending(10)).toEqual([]);
    const answers = s.transport.calls.filter((c) => c.command === 'SendTaskSuccess').map((c) => c.caller);
    expect(answers.slice(0, 2)).toEqual(['local-cli', 'Reconcile']);
  });
});

describe('issue 9 finding 5: the bake task follows the bake', () => {
  it('a healthy bake ends when its time is up even if the reconciler never comes', async () => {
    // Prepare: the reconciler's schedule is disabled
    const s = await open(withPolicy('development', { bakeMinutes: 10 }), undefined, withoutReconciler);
    s.transport.record(true);

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const bake = record?.history.filter((h) => h.stage === 'Bake') ?? [];
    const took = minutes(bake[0]?.at, bake.at(-1)?.at);
    expect(took).toBeGreaterThanOrEqual(10);
    expect(took).toBeLessThanOrEqual(11);
    expect(s.transport.calls.filter((c) => c.caller === 'Reconcile')).toEqual([]);
  });

  it('a bake longer than 25 hours (policy plus a rule) is not cut short', async () => {
    // Prepare: 1,440 minutes from the policy and 120 from a rule
    const s = await open(
      withPolicy('development', {
        bakeMinutes: 1440,
        rules: [
          { name: 'watch-longer', when: { environment: ['development'] }, actions: { addBakeMinutes: 120 } },
        ],
      }),
    );

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const bake = record?.history.filter((h) => h.stage === 'Bake') ?? [];
    expect(minutes(bake[0]?.at, bake.at(-1)?.at)).toBeGreaterThanOrEqual(1560);
  });

  it('a policy whose bake can pass the cap is refused when the catalog is read, with its path', () => {
    // Prepare
    const catalog = withPolicy('development', {
      bakeMinutes: 1440,
      rules: [
        { name: 'longer-a', when: { environment: ['development'] }, actions: { addBakeMinutes: 1440 } },
        { name: 'longer-b', when: { environment: ['development'] }, actions: { addBakeMinutes: 1440 } },
      ],
    });

    // Act
    const parse = () => parseCatalog(catalog);

    // Assess
    expect(parse).toThrow(/policies\.development\.bakeMinutes: .*4320 minutes.*2880/);
  });

  it('a bake beyond the cap fails at Decide with a clear validation error, before anything is deployed', async () => {
    // Prepare: a policy stored before the cap was checked (written around the schema)
    const s = await open();
    const stored = await s.stores.policies.get('development');
    if (!stored) throw new Error('the demo catalog has a development policy');
    const longer = (name: string) => ({
      name,
      description: '',
      priority: 100,
      when: { environment: ['development'] },
      actions: { addBakeMinutes: 1440, deferMinutes: 60 },
    });
    await s.stores.policies.put(
      'development',
      { ...stored.policy, bakeMinutes: 1440, rules: [longer('longer-a'), longer('longer-b')] },
      'an-older-upshift',
      START.toISOString(),
    );

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));

    // Assess
    expect(record?.outcome).toBe('FAILED');
    expect(record?.reasons[0]?.code).toBe('BakeTooLong');
    expect(record?.reasons[0]?.message).toMatch(/4320 minutes.*2880/);
    expect(deployments(s)).toEqual([]);
    await expectNothingLeft(s, 'checkout', 'development');
  });
});
