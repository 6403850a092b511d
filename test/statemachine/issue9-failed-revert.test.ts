import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';
import { aliasRouting, busEvents, deployments, detailTypes } from '../support/twin';

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

/**
 * An operator stops every revert (a bake revert or a manual rollback: the deployments that
 * override the group's alarms) at the instant it starts, without rollback: it ends Stopped.
 */
function stopEveryRevert(s: LocalStack) {
  s.codedeploy.onProgress((p) => {
    const deployment = s.codedeploy.list().find((d) => d.deploymentId === p.deploymentId);
    if (!p.note.startsWith('started') || !deployment?.overrideAlarmConfiguration) return;
    s.scheduler.at(p.atMs, async () => {
      await s.admin.deployer().stopDeployment(p.deploymentId, false);
    });
  });
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
    stopEveryRevert(s);

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
    const revert = deployments(s).at(-1);
    expect(revert).toMatchObject({ toVersion: '1.1.0', status: 'Stopped', errorCode: 'MANUAL_STOP' });
    expect(aliasRouting(s, 'checkout-development', 'live').at(-1)).toEqual({ '1.2.0': 100 });
    const alert = busEvents(s).find((e) => e['detail-type'] === 'Upgrade Rollback Failed');
    expect(alert?.detail).toMatchObject({ outcome: 'ROLLBACK_FAILED', version: '1.2.0' });
    expect(detailTypes(s)).not.toContain('Upgrade Rolled Back');
    await expectNothingLeft(s, 'checkout', 'development');
  });

  it('a manual rollback whose deployment ends Stopped is ROLLBACK_FAILED and leaves the registry on the current version', async () => {
    // Prepare
    const s = await open();
    await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    stopEveryRevert(s);

    // Act
    const { record } = await s.run(
      rollbackRequest({ component: 'checkout', environment: 'staging', reason: 'revert the release' }),
    );

    // Assess
    expect(record?.outcome).toBe('ROLLBACK_FAILED');
    expect(record?.reasons[0]?.message).toMatch(/1\.1\.0 still serves/);
    const registry = await s.stores.registry.get('checkout', 'staging');
    expect(registry?.current.version).toBe('1.1.0');
    expect(deployments(s).at(-1)).toMatchObject({ toVersion: '1.0.0', status: 'Stopped' });
    expect(detailTypes(s)).toContain('Upgrade Rollback Failed');
    await expectNothingLeft(s, 'checkout', 'staging');
  });
});
