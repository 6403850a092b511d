import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';

const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

async function open(catalog: unknown = demoCatalog) {
  stack = await LocalStack.start({ catalog: parseCatalog(catalog), startAt: START });
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

function rollbackRequest(detail: { component: string; environment: string; reason: string }) {
  return {
    version: '0' as const,
    id: `rb-${Math.random().toString(16).slice(2)}`,
    'detail-type': 'Rollback Requested',
    source: 'ops.test',
    account: '123456789012',
    time: START.toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: { ...detail, requestedBy: 'oncall@example.com' },
  };
}

/** Every revert (bake revert or manual rollback) is stopped as soon as it starts: it ends Stopped. */
function failReverts(s: LocalStack) {
  const create = s.codedeploy.createDeployment.bind(s.codedeploy);
  s.codedeploy.createDeployment = async (request) => {
    const created = await create(request);
    if (request.revert) await s.codedeploy.stopDeployment(created.deploymentId, true);
    return created;
  };
}

async function expectNothingLeft(s: LocalStack, component: string, environment: string) {
  expect(await s.stores.locks.get(`${component}#${environment}`)).toBeUndefined();
  expect(await s.stores.deploymentWaits.listPending(10)).toEqual([]);
  expect(await s.stores.bakeWatches.listPending(10)).toEqual([]);
}

describe('issue 9 finding 2: failed revert', () => {
  it('a bake revert that ends Stopped is ROLLBACK_FAILED, the registry names what serves, and an alert goes out', async () => {
    // Prepare: 1.1.0 is good; 1.2.0 trips its alarm in a 10-minute bake; every revert fails.
    const s = await open(withPolicy('development', { bakeMinutes: 10 }));
    await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    failReverts(s);

    // Act
    const { record } = await s.run(
      versionPublished({ version: '1.2.0', environment: 'development', functionVersion: '8' }),
    );

    // Assess
    expect(record?.outcome).toBe('ROLLBACK_FAILED');
    expect(record?.reasons[0]?.code).toBe('ROLLBACK_FAILED');
    expect(record?.reasons[0]?.message).toContain('1.2.0');
    const registry = await s.stores.registry.get('checkout', 'development');
    expect(registry?.current.version).toBe('1.2.0');
    expect(registry?.lastKnownGood.version).toBe('1.1.0');
    const alert = s.bus.log.find((e) => e['detail-type'] === 'Upgrade Rollback Failed');
    expect(alert?.detail).toMatchObject({ outcome: 'ROLLBACK_FAILED', version: '1.2.0' });
    expect(s.bus.log.map((e) => e['detail-type'])).not.toContain('Upgrade Rolled Back');
    await expectNothingLeft(s, 'checkout', 'development');
  });

  it('a manual rollback whose deployment ends Stopped is ROLLBACK_FAILED and leaves the registry on the current version', async () => {
    // Prepare
    const s = await open();
    await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    failReverts(s);

    // Act
    const { record } = await s.run(
      rollbackRequest({ component: 'checkout', environment: 'staging', reason: 'revert the release' }),
    );

    // Assess
    expect(record?.outcome).toBe('ROLLBACK_FAILED');
    expect(record?.reasons[0]?.message).toMatch(/1\.1\.0 still serves/);
    const registry = await s.stores.registry.get('checkout', 'staging');
    expect(registry?.current.version).toBe('1.1.0');
    expect(s.bus.log.map((e) => e['detail-type'])).toContain('Upgrade Rollback Failed');
    await expectNothingLeft(s, 'checkout', 'staging');
  });
});
