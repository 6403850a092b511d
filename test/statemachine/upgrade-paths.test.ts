import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { ecrPush, versionPublished } from '../support/events';
import { aliasRouting, busEvents, deployments, detailTypes } from '../support/twin';

const START = new Date('2026-12-02T10:00:00Z'); // a Wednesday
let stack: LocalStack | undefined;

async function open(options: { autoAnswer?: { approve: boolean; by: string }; catalog?: unknown } = {}) {
  stack = await LocalStack.start({
    catalog: parseCatalog(options.catalog ?? demoCatalog),
    startAt: START,
    ...(options.autoAnswer ? { autoAnswer: options.autoAnswer } : {}),
  });
  return stack;
}

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function expectNoLock(s: LocalStack, component: string, environment: string) {
  expect(await s.stores.locks.get(`${component}#${environment}`)).toBeUndefined();
}

describe('the upgrade state machine, run locally on the real ASL', () => {
  it('COMPLETED: verify, decide, deploy all at once, bake, promote in the registry', async () => {
    const s = await open();
    const { record, execution } = await s.run(
      versionPublished({ version: '1.1.0', environment: 'development' }),
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(record?.outcome).toBe('COMPLETED');
    expect(record?.history.map((h) => h.stage)).toEqual(
      expect.arrayContaining(['Intake', 'Lock', 'Verify', 'Decide', 'Deploy', 'Bake', 'Record']),
    );
    const registry = await s.stores.registry.get('checkout', 'development');
    expect(registry?.current.version).toBe('1.1.0');
    expect(registry?.previous?.version).toBe('1.0.0');
    expect(registry?.lastKnownGood.version).toBe('1.1.0');
    await expectNoLock(s, 'checkout', 'development');
    expect(detailTypes(s)).toEqual(expect.arrayContaining(['Upgrade Started', 'Upgrade Completed']));
  });

  it('COMPLETED with a canary: 10% for 5 virtual minutes, then 100%', async () => {
    const s = await open();
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    expect(record?.outcome).toBe('COMPLETED');
    const deployment = deployments(s)[0];
    expect(deployment?.config).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    // The staging alias's routing as CodeDeploy moved it; development and production never moved.
    expect(aliasRouting(s, 'checkout-staging', 'live')).toEqual([
      { '1.0.0': 100 },
      { '1.0.0': 90, '1.1.0': 10 },
      { '1.1.0': 100 },
    ]);
    expect(aliasRouting(s, 'checkout-production', 'live')).toEqual([{ '1.0.0': 100 }]);
    expect(Date.parse(record?.endedAt ?? '') - START.getTime()).toBeGreaterThanOrEqual(15 * 60_000);
  });

  it('ROLLED_BACK during the shift: the canary alarm stops it, named in the reasons', async () => {
    const s = await open();
    const { record } = await s.run(
      versionPublished({ version: '1.2.0', environment: 'staging', functionVersion: '8' }),
    );
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons.map((r) => r.code)).toEqual(['DEPLOYMENT_STOPPED', 'ALARM']);
    expect(record?.reasons[1]?.message).toContain('checkout-staging-error-rate');
    const [stopped, rollback] = deployments(s);
    expect(stopped?.errorCode).toBe('ALARM_ACTIVE');
    expect(rollback?.creator).toBe('codeDeployRollback');
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.0.0');
    await expectNoLock(s, 'checkout', 'staging');
  });

  it('ROLLED_BACK during the bake: an all-at-once release fails live traffic and is reverted', async () => {
    // The demo's 1-minute bake is shorter than the alarm's two 1-minute periods; bake for 5.
    const catalog = structuredClone(demoCatalog) as unknown as {
      policies: Record<string, Record<string, unknown>>;
    };
    catalog.policies.development = { ...catalog.policies.development, bakeMinutes: 5 };
    const s = await open({ catalog });
    const { record } = await s.run(
      versionPublished({ version: '1.2.0', environment: 'development', functionVersion: '8' }),
    );
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons[0]?.code).toBe('BAKE_ALARM');
    expect(record?.reasons[0]?.message).toContain('checkout-development-error-rate');
    const revert = deployments(s).at(-1);
    expect(revert?.toVersion).toBe('1.0.0');
    expect(revert?.config).toBe('CodeDeployDefault.LambdaAllAtOnce');
    expect((await s.stores.registry.get('checkout', 'development'))?.current.version).toBe('1.0.0');
    await expectNoLock(s, 'checkout', 'development');
  });

  it('ROLLED_BACK for the demo service whose 2.2.0 code breaks on big carts', async () => {
    const s = await open();
    const { record } = await s.run(
      versionPublished({
        component: 'pricing',
        version: '2.2.0',
        environment: 'staging',
        functionVersion: '3',
      }),
    );
    const verify = record?.history.find((h) => h.stage === 'Verify');
    expect(verify?.status).toBe('PASS');
    expect(record?.outcome).toBe('ROLLED_BACK');
  });

  it('REJECTED by policy when verification fails', async () => {
    const s = await open();
    const { record } = await s.run(
      versionPublished({ version: '1.3.0', environment: 'staging', functionVersion: '9' }),
    );
    expect(record?.outcome).toBe('REJECTED');
    expect(record?.reasons[0]?.code).toBe('VERIFICATION_FAILED');
    expect(deployments(s)).toHaveLength(0);
    await expectNoLock(s, 'checkout', 'staging');
  });

  it('REJECTED by an approver', async () => {
    const s = await open({ autoAnswer: { approve: false, by: 'ana@example.com' } });
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    expect(record?.outcome).toBe('REJECTED');
    expect(record?.reasons[0]).toMatchObject({ code: 'REJECTED_BY_APPROVER' });
    expect(record?.reasons[0]?.message).toContain('ana@example.com');
    await expectNoLock(s, 'checkout', 'production');
  });

  it('approved in office hours, deployed in the Sunday window', async () => {
    const s = await open({ autoAnswer: { approve: true, by: 'ana@example.com' } });
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    expect(record?.outcome).toBe('COMPLETED');
    const deploy = record?.history.find((h) => h.stage === 'Deploy');
    expect(deploy?.at).toBe('2026-12-06T02:00:00.000Z');
    expect(busEvents(s).find((e) => e['detail-type'] === 'Approval Requested')?.detail).not.toHaveProperty(
      'taskToken',
    );
  });

  it('EXPIRED when nobody answers the approval within the policy timeout', async () => {
    const s = await open();
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    expect(record?.outcome).toBe('EXPIRED');
    expect(record?.reasons[0]?.code).toBe('APPROVAL_TIMEOUT');
    expect(record?.endedAt).toBe('2026-12-03T10:00:00.000Z');
    await expectNoLock(s, 'checkout', 'production');
  });

  it('DEFER: waits out the minimum interval, verifies again and completes', async () => {
    const s = await open();
    await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    const { record } = await s.run(
      versionPublished({ version: '1.1.1', environment: 'development', functionVersion: '8' }),
    );
    expect(record?.outcome).toBe('COMPLETED');
    const stages = record?.history.map((h) => `${h.stage}:${h.status}`) ?? [];
    expect(stages).toContain('Decide:DEFER');
    expect(stages.filter((s) => s === 'Verify:PASS')).toHaveLength(2);
    expect(stages).toContain('Lock:RELEASED');
  });

  it('DEFER to the maintenance window: virtual time jumps to it, verifies again, completes', async () => {
    const catalog = structuredClone(demoCatalog) as unknown as {
      policies: Record<string, Record<string, unknown>>;
    };
    catalog.policies.staging = {
      ...catalog.policies.staging,
      maintenanceWindows: [{ days: ['SAT'], start: '22:00', end: '02:00', timezone: 'Europe/Berlin' }],
    };
    const s = await open({ catalog });
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    expect(record?.outcome).toBe('COMPLETED');
    const stages = record?.history.map((h) => `${h.stage}:${h.status}`) ?? [];
    expect(stages.slice(0, 6)).toEqual([
      'Intake:ACCEPTED',
      'Lock:ACQUIRED',
      'Verify:PASS',
      'Decide:DEFER',
      'Lock:RELEASED',
      'Lock:ACQUIRED',
    ]);
    const second = record?.history.filter((h) => h.stage === 'Verify')[1];
    expect(second?.at).toBe('2026-12-05T21:00:00.000Z'); // Saturday 22:00 in Berlin
    expect(record?.history.find((h) => h.stage === 'Deploy')?.at).toBe('2026-12-05T21:00:00.000Z');
    expect(detailTypes(s)).toContain('Upgrade Deferred');
  });

  it('production: approved on Wednesday, the approval is kept while the shift waits for Sunday', async () => {
    const s = await open({ autoAnswer: { approve: true, by: 'ana@example.com' } });
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    const decides = record?.history.filter((h) => h.stage === 'Decide').map((h) => h.status);
    expect(decides).toEqual(['MANUAL_REVIEW', 'DEFER', 'APPROVE']);
    expect(record?.history.filter((h) => h.stage === 'Approval').map((h) => h.status)).toEqual([
      'REQUESTED',
      'VOTE',
      'APPROVED',
    ]);
  });

  it('EXPIRED after the last allowed deferral', async () => {
    const catalog = structuredClone(demoCatalog) as unknown as {
      policies: Record<string, Record<string, unknown>>;
    };
    catalog.policies.development = { ...catalog.policies.development, maxDeferrals: 0 };
    const s = await open({ catalog });
    await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    const { record } = await s.run(versionPublished({ version: '1.1.1', environment: 'development' }));
    expect(record?.outcome).toBe('EXPIRED');
    expect(record?.reasons.map((r) => r.code)).toContain('DEFERRAL_LIMIT');
  });

  it('SKIPPED as a duplicate, and for an older version', async () => {
    const s = await open();
    const event = versionPublished({ version: '1.1.0', environment: 'development' });
    const first = await s.run(event);
    const again = await s.run(event);
    expect(again.record?.outcome).toBe('SKIPPED');
    // The reason names the workflow holding the version as a field, not only in its message.
    expect(again.record?.reasons[0]).toMatchObject({
      code: 'DUPLICATE',
      holder: { workflowId: first.record?.workflowId },
    });
    expect(first.record?.workflowId).toBeTruthy();
    const older = await s.run(versionPublished({ version: '0.9.0', environment: 'development' }));
    expect(older.record?.outcome).toBe('SKIPPED');
    expect(older.record?.reasons[0]?.code).toBe('VERSION_NOT_NEWER');
  });

  it('IGNORED for an unknown component, and INVALID naming the field', async () => {
    const s = await open();
    const unknown = await s.run(versionPublished({ component: 'ledger', version: '1.0.0' }));
    expect(unknown.record?.outcome).toBe('IGNORED');
    const event = versionPublished({ version: '1.1.0' }) as { detail: Record<string, unknown> };
    delete event.detail.component;
    const invalid = await s.run(event);
    expect(invalid.record?.outcome).toBe('INVALID');
    expect(invalid.record?.reasons[0]?.message).toMatch(/^detail\.component: /);
    const malformed = await s.runText('{"detail-type": ');
    expect(malformed.record?.outcome).toBe('INVALID');
    expect(malformed.record?.reasons[0]?.code).toBe('MALFORMED_JSON');
  });

  it('ECR pushes: a semver tag upgrades the ECS component, another tag is IGNORED', async () => {
    // Probes go through the load balancer's test listener, where no task runs the pushed image
    // before CodeDeploy starts its replacement task set: the load balancer answers 503, the
    // evidence is INCONCLUSIVE, and a person approves.
    const s = await open({ autoAnswer: { approve: true, by: 'ana@example.com' } });
    const upgrade = await s.run(ecrPush('storefront', '3.1.0'));
    expect(upgrade.record?.history.find((h) => h.stage === 'Verify')?.status).toBe('INCONCLUSIVE');
    expect(upgrade.record?.outcome).toBe('COMPLETED');
    expect(upgrade.record?.environment).toBe('staging');
    const latest = await s.run(ecrPush('storefront', 'latest'));
    expect(latest.record?.outcome).toBe('IGNORED');
    expect(latest.record?.reasons[0]?.code).toBe('TAG_NOT_SEMVER');
  });

  it('FAILED when a step fails for good: recorded, lock released, event emitted', async () => {
    const s = await open();
    // CodeDeploy refuses the deployment for good (the group was deleted by hand, say).
    s.transport.injectFault({
      service: 'codedeploy',
      command: 'CreateDeployment',
      when: 'before',
      times: 10,
      error: () =>
        Object.assign(new Error('No deployment group found for name: checkout-development'), {
          name: 'DeploymentGroupDoesNotExistException',
        }),
    });
    const { record, execution } = await s.run(
      versionPublished({ version: '1.1.0', environment: 'development' }),
    );
    expect(execution.status).toBe('FAILED');
    expect(record?.outcome).toBe('FAILED');
    expect(record?.reasons[0]?.code).toBe('DeploymentCreationFailed');
    expect(record?.reasons[0]?.message).toContain('DeploymentGroupDoesNotExistException');
    await expectNoLock(s, 'checkout', 'development');
    expect(detailTypes(s)).toContain('Upgrade Failed');
  });

  it('one upgrade per component and environment: the second waits for the lock, then gives up', async () => {
    const s = await open();
    const first = s.startExecution(versionPublished({ version: '1.1.0', environment: 'production' }));
    const second = s.startExecution(
      versionPublished({ version: '1.2.0', environment: 'production', functionVersion: '8' }),
    );
    const [a, b] = await Promise.all([first, second]);
    const ra = await s.stores.workflows.get(a.name);
    const rb = await s.stores.workflows.get(b.name);
    expect(ra?.outcome).toBe('EXPIRED');
    expect(rb?.outcome).toBe('EXPIRED');
    expect(rb?.reasons[0]?.code).toBe('LOCK_TIMEOUT');
    await expectNoLock(s, 'checkout', 'production');
  });
});
