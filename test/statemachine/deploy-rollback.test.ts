import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';
import { deployments } from '../support/twin';

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

async function assertSettled(s: LocalStack, component: string, environment: string, current: string) {
  expect(await s.stores.locks.get(`${component}#${environment}`)).toBeUndefined();
  expect((await s.stores.registry.get(component, environment))?.current.version).toBe(current);
  expect(await s.stores.deploymentWaits.listPending(10)).toEqual([]);
  expect(await s.stores.bakeWatches.listPending(10)).toEqual([]);
}

function rollbackRequest(detail: {
  component: string;
  environment: string;
  toVersion?: string;
  reason: string;
}) {
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

describe('deploy, bake and roll back (event-driven, on the real ASL)', () => {
  it('success: the state-change event resumes the execution, no polling', async () => {
    const s = await open();
    const { record, execution } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    expect(record?.outcome).toBe('COMPLETED');
    const deploy = record?.history.filter((h) => h.stage === 'Deploy').map((h) => h.detail) ?? [];
    expect(deploy.some((d) => d.includes('(via event)'))).toBe(true);
    expect(deploy.some((d) => d.startsWith('polled'))).toBe(false);
    expect(execution.transitions).toBeLessThan(40);
    await assertSettled(s, 'checkout', 'staging', '1.1.0');
    const registry = await s.stores.registry.get('checkout', 'staging');
    expect(registry?.lastKnownGood).toMatchObject({
      version: '1.1.0',
      deploymentId: deployments(s)[0]?.deploymentId,
    });
  });

  it('deployment FAILURE: CodeDeploy rolls back, the outcome names the error', async () => {
    const s = await open();
    const { record } = await s.run(
      versionPublished({ version: '1.4.0', environment: 'staging', functionVersion: '10' }),
    );
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons[0]).toMatchObject({ code: 'DEPLOYMENT_FAILED' });
    expect(record?.reasons[0]?.message).toContain('HOOK_EXECUTION_FAILURE');
    expect(deployments(s).map((d) => [d.status, d.creator])).toEqual([
      ['Failed', 'user'],
      ['Succeeded', 'codeDeployRollback'],
    ]);
    await assertSettled(s, 'checkout', 'staging', '1.0.0');
  });

  it('stop on alarm: the alarm is named, with when it fired', async () => {
    const s = await open();
    const { record } = await s.run(
      versionPublished({ version: '1.2.0', environment: 'staging', functionVersion: '8' }),
    );
    expect(record?.outcome).toBe('ROLLED_BACK');
    const alarm = record?.reasons.find((r) => r.code === 'ALARM');
    expect(alarm?.message).toMatch(
      /alarm checkout-staging-error-rate entered ALARM at 2026-12-02T10:0\d:00.000Z/,
    );
    await assertSettled(s, 'checkout', 'staging', '1.0.0');
  });

  it('a dropped completion event: the reconciler resumes the execution', async () => {
    const s = await open();
    s.codedeploy.dropEvents = true;
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    expect(record?.outcome).toBe('COMPLETED');
    const resumed = record?.history.find((h) => h.stage === 'Deploy' && h.status === 'Succeeded');
    expect(resumed?.detail).toContain('(via reconciler)');
    // The shift ends at 10:05; the reconciler polls each deployment at most every 5 minutes.
    expect(Date.parse(resumed?.at ?? '')).toBeLessThanOrEqual(Date.parse('2026-12-02T10:11:00Z'));
    await assertSettled(s, 'checkout', 'staging', '1.1.0');
  });

  it('an alarm during the bake: the alarm event ends the bake, and the revert goes to the last known-good', async () => {
    const catalog = structuredClone(demoCatalog) as unknown as {
      policies: Record<string, Record<string, unknown>>;
    };
    catalog.policies.development = { ...catalog.policies.development, bakeMinutes: 10 };
    const s = await open(catalog);
    await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    const { record } = await s.run(
      versionPublished({ version: '1.2.0', environment: 'development', functionVersion: '8' }),
    );
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons[0]?.code).toBe('BAKE_ALARM');
    expect(record?.reasons[0]?.message).toContain('checkout-development-error-rate');
    expect(record?.reasons[0]?.message).toContain('reverted to 1.1.0');
    const alarmAt = record?.history.find((h) => h.stage === 'Bake' && h.status === 'ALARM')?.at;
    const revertAt = record?.history.find((h) => h.stage === 'Revert' && h.status === 'CREATED')?.at;
    expect(revertAt).toBe(alarmAt); // no virtual time between the alarm and the revert
    const revert = deployments(s).at(-1);
    expect(revert).toMatchObject({ toVersion: '1.1.0', config: 'CodeDeployDefault.LambdaAllAtOnce' });
    await assertSettled(s, 'checkout', 'development', '1.1.0');
  });

  it('a manual rollback in the middle of a shift: StopDeployment with rollback', async () => {
    const s = await open();
    const upgrade = s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
    // Two minutes into the 5-minute canary, on-call asks for a rollback.
    let requested: Promise<unknown> | undefined;
    s.scheduler.at(START.getTime() + 2 * 60_000, () => {
      requested = s.startExecution(
        rollbackRequest({ component: 'checkout', environment: 'staging', reason: 'payments look off' }),
      );
    });
    const result = await upgrade;
    await requested;
    const record = await s.stores.workflows.get(result.name);
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons.map((r) => r.code)).toEqual(['DEPLOYMENT_STOPPED', 'MANUAL_ROLLBACK']);
    expect(record?.reasons[1]?.message).toContain('payments look off');
    expect(deployments(s).map((d) => [d.status, d.creator, d.errorCode])).toEqual([
      ['Stopped', 'user', 'MANUAL_STOP'],
      ['Succeeded', 'codeDeployRollback', undefined],
    ]);
    const requests = await s.stores.workflows.list(10);
    const rollbackRecord = requests.find((r) => r.source === 'ops.test');
    expect(rollbackRecord?.outcome).toBe('ROLLED_BACK');
    expect(rollbackRecord?.reasons[0]?.code).toBe('MANUAL_ROLLBACK');
    await assertSettled(s, 'checkout', 'staging', '1.0.0');
  });

  it('a manual rollback during the bake ends the bake and reverts at once', async () => {
    const s = await open();
    const upgrade = s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
    // The canary ends at 10:05; the bake runs until 10:15. On-call asks at 10:08.
    let requested: Promise<unknown> | undefined;
    s.scheduler.at(START.getTime() + 8 * 60_000, () => {
      requested = s.startExecution(
        rollbackRequest({ component: 'checkout', environment: 'staging', reason: 'conversion dropped' }),
      );
    });
    const result = await upgrade;
    await requested;
    const record = await s.stores.workflows.get(result.name);
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons[0]?.code).toBe('MANUAL_ROLLBACK');
    expect(record?.reasons[0]?.message).toContain('conversion dropped');
    expect(Date.parse(record?.endedAt ?? '')).toBeLessThan(Date.parse('2026-12-02T10:09:00Z'));
    await assertSettled(s, 'checkout', 'staging', '1.0.0');
  });

  it('a manual rollback with nothing in flight goes back to the previous version, or to --to', async () => {
    const s = await open();
    await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    const back = await s.run(
      rollbackRequest({ component: 'checkout', environment: 'staging', reason: 'revert the release' }),
    );
    expect(back.record?.outcome).toBe('ROLLED_BACK');
    expect(back.record?.reasons[0]?.message).toMatch(/rolled back from 1.1.0 to 1.0.0/);
    await assertSettled(s, 'checkout', 'staging', '1.0.0');
    const registry = await s.stores.registry.get('checkout', 'staging');
    expect(registry?.previous?.version).toBe('1.1.0');
    const unknown = await s.run(
      rollbackRequest({ component: 'checkout', environment: 'staging', toVersion: '0.5.0', reason: 'x' }),
    );
    expect(unknown.record?.outcome).toBe('INVALID');
    expect(unknown.record?.reasons[0]?.message).toMatch(/^detail\.toVersion: expected one of/);
    const forward = await s.run(
      rollbackRequest({
        component: 'checkout',
        environment: 'staging',
        toVersion: '1.1.0',
        reason: 'it was fine',
      }),
    );
    expect(forward.record?.outcome).toBe('ROLLED_BACK');
    await assertSettled(s, 'checkout', 'staging', '1.1.0');
  });
});
