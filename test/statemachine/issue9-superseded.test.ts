import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { compareVersions } from '../../shared/domain/semver';
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
    expect(s.codedeploy.list().map((d) => d.toVersion)).toEqual(['1.1.1']);
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.1');
    await expectNothingLeft(s, 'checkout', 'staging');
  });

  it('a newer version deployed between intake and the lock makes the request SKIPPED (superseded)', async () => {
    // Prepare: right as 1.1.0 takes the lock, the registry already says 1.1.1 serves.
    const s = await open();
    const acquire = s.stores.locks.acquire.bind(s.stores.locks);
    let promoted = false;
    s.stores.locks.acquire = async (key, owner, now, lease) => {
      const held = await acquire(key, owner, now, lease);
      if (!promoted) {
        promoted = true;
        await s.stores.registry.promote({
          component: 'checkout',
          environment: 'staging',
          version: '1.1.1',
          artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '7' },
          at: now.toISOString(),
        });
      }
      return held;
    };

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(record?.outcome).toBe('SKIPPED');
    expect(record?.reasons[0]?.code).toBe('SUPERSEDED');
    expect(s.codedeploy.list()).toEqual([]);
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
    const deployed = s.codedeploy
      .list()
      .filter((d) => d.creator === 'user')
      .map((d) => d.toVersion);
    for (let i = 1; i < deployed.length; i++) {
      expect(compareVersions(deployed[i] as string, deployed[i - 1] as string)).toBeGreaterThan(0);
    }
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.5');
    await expectNothingLeft(s, 'checkout', 'staging');
  });
});
