import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { compareVersions } from '../../shared/domain/semver';
import { lambdaVersionOf, versionPublished } from '../support/events';
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

async function expectNothingLeft(s: LocalStack, component: string, environment: string) {
  expect(await s.stores.locks.get(`${component}#${environment}`)).toBeUndefined();
  expect(await s.stores.deploymentWaits.listPending(10)).toEqual([]);
  expect(await s.stores.bakeWatches.listPending(10)).toEqual([]);
}

describe('issue 9 finding 1: a stale request cannot downgrade', () => {
  it('an older request waiting behind a newer one in flight ends SKIPPED (superseded)', async () => {
    // Prepare: 1.1.1 is shifting when 1.1.0 arrives a minute later.
    const s = await open();
    const newer = s.startExecution(versionPublished({ version: '1.1.1', environment: 'staging' }));
    let older: Promise<{ name: string }> | undefined;
    s.scheduler.at(START.getTime() + 60_000, () => {
      older = s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
    });

    // Act
    const a = await newer;
    await s.drain();
    const b = await (older as Promise<{ name: string }>);

    // Assess
    expect((await s.stores.workflows.get(a.name))?.outcome).toBe('COMPLETED');
    const stale = await s.stores.workflows.get(b.name);
    expect(stale?.outcome).toBe('SKIPPED');
    expect(stale?.reasons[0]?.code).toBe('SUPERSEDED');
    expect(stale?.reasons[0]?.message).toContain('1.1.1');
    expect(deployments(s).map((d) => d.toVersion)).toEqual(['1.1.1']);
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.1');
    await expectNothingLeft(s, 'checkout', 'staging');
  });

  it('a newer version deployed between intake and the lock makes the request SKIPPED (superseded)', async () => {
    // Prepare: another deployer holds the lock when 1.1.0 arrives; while 1.1.0 waits for it,
    // 1.1.1 is deployed and the lock released. Only a registry read under the lock can see it.
    const s = await open();
    const key = 'checkout#staging';
    await s.stores.locks.acquire(key, 'wf-deployed-by-hand', START, 3600);
    s.scheduler.at(START.getTime() + 5 * 60_000, async () => {
      await s.stores.registry.promote({
        component: 'checkout',
        environment: 'staging',
        version: '1.1.1',
        artifact: { type: 'lambda', functionName: 'checkout', functionVersion: lambdaVersionOf('1.1.1') },
        at: s.scheduler.now().toISOString(),
      });
      await s.stores.locks.release(key, 'wf-deployed-by-hand');
    });

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(record?.history.find((h) => h.stage === 'Intake')?.detail).toContain('1.0.0 -> 1.1.0');
    expect(record?.history.map((h) => h.stage)).toContain('Lock');
    expect(record?.outcome).toBe('SKIPPED');
    expect(record?.reasons[0]?.code).toBe('SUPERSEDED');
    expect(record?.reasons[0]?.message).toContain('1.1.1 is already deployed');
    expect(deployments(s)).toEqual([]);
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.1');
    await expectNothingLeft(s, 'checkout', 'staging');
  });

  it('a superseded version may be published again (its dedupe claim is released)', async () => {
    // Prepare
    const s = await open();
    const newer = s.startExecution(versionPublished({ version: '1.1.1', environment: 'staging' }));
    s.scheduler.at(START.getTime() + 60_000, () => {
      void s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
    });
    await newer;
    await s.drain();

    // Act: 1.1.0 again, now older than what serves
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess: judged on its merits, not as a duplicate of the superseded one
    expect(record?.outcome).toBe('SKIPPED');
    expect(record?.reasons[0]?.code).toBe('VERSION_NOT_NEWER');
  });
});

describe('issue 9 finding 11: concurrency never loses the newest', () => {
  it('six versions published at once: never an older over a newer, the newest serves, none EXPIRED', async () => {
    // Prepare
    const s = await open();
    const versions = ['1.1.3', '1.1.0', '1.1.5', '1.1.1', '1.1.4', '1.1.2'];

    // Act
    const runs = await Promise.all(
      versions.map((version) => s.startExecution(versionPublished({ version, environment: 'staging' }))),
    );
    await s.drain();

    // Assess
    const records = await Promise.all(runs.map((r) => s.stores.workflows.get(r.name)));
    expect(records.every((r) => r?.status === 'ENDED')).toBe(true);
    expect(records.map((r) => r?.outcome).filter((o) => o !== 'COMPLETED' && o !== 'SKIPPED')).toEqual([]);
    for (const r of records.filter((x) => x?.outcome === 'SKIPPED')) {
      expect(r?.reasons[0]?.code).toBe('SUPERSEDED');
    }
    const deployed = deployments(s)
      .filter((d) => d.creator === 'user')
      .map((d) => d.toVersion);
    expect(deployed.every((v) => v !== undefined)).toBe(true);
    for (let i = 1; i < deployed.length; i++) {
      expect(compareVersions(deployed[i] as string, deployed[i - 1] as string)).toBeGreaterThan(0);
    }
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.5');
    await expectNothingLeft(s, 'checkout', 'staging');
  });
});

describe('issue 9 finding 11: an upgrade that waited for the lock deploys from what serves now', () => {
  it("a queued upgrade's CurrentVersion is the version the previous upgrade left serving, not Intake's", async () => {
    // Prepare: 1.1.0 is shifting when 1.1.1 arrives; Intake reads 1.0.0 as current for both.
    const s = await open();
    const first = s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
    let second: Promise<{ name: string }> | undefined;
    s.scheduler.at(START.getTime() + 60_000, () => {
      second = s.startExecution(versionPublished({ version: '1.1.1', environment: 'staging' }));
    });

    // Act
    const a = await first;
    await s.drain();
    const b = await (second as Promise<{ name: string }>);

    // Assess: CodeDeploy fails an AppSpec whose CurrentVersion is not the alias's version, so the
    // second deployment succeeds only if it starts from 1.1.0
    expect((await s.stores.workflows.get(a.name))?.outcome).toBe('COMPLETED');
    const later = await s.stores.workflows.get(b.name);
    expect(later?.history.find((h) => h.stage === 'Intake')?.detail).toContain('1.0.0 -> 1.1.1');
    expect(later?.outcome).toBe('COMPLETED');
    expect(deployments(s).map((d) => [d.fromVersion, d.toVersion, d.status])).toEqual([
      ['1.0.0', '1.1.0', 'Succeeded'],
      ['1.1.0', '1.1.1', 'Succeeded'],
    ]);
    const registry = await s.stores.registry.get('checkout', 'staging');
    expect([registry?.previous?.version, registry?.current.version]).toEqual(['1.1.0', '1.1.1']);
    await expectNothingLeft(s, 'checkout', 'staging');
  });
});
