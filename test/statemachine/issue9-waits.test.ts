import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';

const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

async function open(
  catalog: unknown = demoCatalog,
  autoAnswer?: { approve: boolean; by: string },
): Promise<LocalStack> {
  stack = await LocalStack.start({
    catalog: parseCatalog(catalog),
    startAt: START,
    ...(autoAnswer ? { autoAnswer } : {}),
  });
  return stack;
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

/** The first SendTaskSuccess fails (a network error after the wait was closed). */
function failFirstAnswer(s: LocalStack) {
  const send = s.tokens.sendSuccess.bind(s.tokens);
  let failed = false;
  s.tokens.sendSuccess = async (token, output) => {
    if (!failed) {
      failed = true;
      throw new Error('socket hang up');
    }
    return send(token, output);
  };
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
    failFirstAnswer(s);

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess: the canary ends at 10:05; the reconciler answers within its next minutes
    expect(record?.outcome).toBe('COMPLETED');
    const bakeStart = record?.history.find((h) => h.stage === 'Bake' && h.status === 'WATCHING')?.at;
    expect(minutes(START.toISOString(), bakeStart)).toBeLessThan(15);
    await expectNothingLeft(s, 'checkout', 'staging');
  });

  it('an approval whose answer fails is answered by the reconciler, not EXPIRED', async () => {
    // Prepare
    const s = await open(demoCatalog, { approve: true, by: 'ana@example.com' });
    failFirstAnswer(s);

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    expect(record?.history.filter((h) => h.stage === 'Approval').map((h) => h.status)).toContain('APPROVED');
    expect(await s.stores.approvals.listPending(10)).toEqual([]);
  });
});

describe('issue 9 finding 5: the bake task follows the bake', () => {
  it('a healthy bake ends when its time is up even if the reconciler never comes', async () => {
    // Prepare: the reconciler sees no bake at all
    const s = await open(withPolicy('development', { bakeMinutes: 10 }));
    s.stores.bakeWatches.listPending = async () => [];

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const bake = record?.history.filter((h) => h.stage === 'Bake') ?? [];
    const took = minutes(bake[0]?.at, bake.at(-1)?.at);
    expect(took).toBeGreaterThanOrEqual(10);
    expect(took).toBeLessThanOrEqual(11);
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

  it('a bake beyond the cap fails at Decide with a clear validation error, before anything is deployed', async () => {
    // Prepare
    const s = await open(
      withPolicy('development', {
        bakeMinutes: 1440,
        rules: [
          { name: 'longer-a', when: { environment: ['development'] }, actions: { addBakeMinutes: 1440 } },
          { name: 'longer-b', when: { environment: ['development'] }, actions: { addBakeMinutes: 1440 } },
        ],
      }),
    );

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));

    // Assess
    expect(record?.outcome).toBe('FAILED');
    expect(record?.reasons[0]?.code).toBe('BakeTooLong');
    expect(record?.reasons[0]?.message).toMatch(/4320 minutes.*2880/);
    expect(s.codedeploy.list()).toEqual([]);
    await expectNothingLeft(s, 'checkout', 'development');
  });
});
