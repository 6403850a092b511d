import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function productionWith(policy: Record<string, unknown>) {
  const catalog = structuredClone(demoCatalog) as unknown as {
    policies: Record<string, Record<string, unknown>>;
  };
  catalog.policies.production = { ...catalog.policies.production, ...policy };
  return parseCatalog(catalog);
}

describe('an approval nobody answers: the policy says what happens', () => {
  it('approvalExpiry reject (the default): EXPIRED when the approval times out, the lock released', async () => {
    // Prepare
    stack = await LocalStack.start({
      catalog: productionWith({}),
      startAt: new Date('2026-12-02T10:00:00Z'),
    });
    // Act
    const { record } = await stack.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    // Assess
    expect(record?.outcome).toBe('EXPIRED');
    expect(record?.reasons[0]?.code).toBe('APPROVAL_TIMEOUT');
    expect(await stack.stores.locks.get('checkout#production')).toBeUndefined();
  });

  it('approvalExpiry defer: waits for the next window and asks again, until the deferrals run out', async () => {
    // Prepare: a Wednesday; production shifts in its Sunday window
    stack = await LocalStack.start({
      catalog: productionWith({ approvalExpiry: 'defer', maxDeferrals: 1 }),
      startAt: new Date('2026-12-02T10:00:00Z'),
    });
    // Act
    const { record } = await stack.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    // Assess
    const approvals = record?.history.filter((h) => h.stage === 'Approval').map((h) => h.status) ?? [];
    expect(approvals.filter((s) => s === 'REQUESTED').length).toBeGreaterThanOrEqual(2);
    expect(approvals).toContain('EXPIRED');
    const second = record?.history.filter((h) => h.stage === 'Approval' && h.status === 'REQUESTED')[1];
    expect(Date.parse(second?.at ?? '')).toBeGreaterThanOrEqual(Date.parse('2026-12-06T02:00:00Z'));
    expect(record?.outcome).toBe('EXPIRED');
    expect(await stack.stores.locks.get('checkout#production')).toBeUndefined();
  });
});
