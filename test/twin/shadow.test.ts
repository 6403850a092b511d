import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { InvalidDocument } from '../../shared/domain/errors';
import { shadowPlanSchema } from '../../shared/domain/shadow';
import { versionPublished } from '../support/events';
import { busEvents, deployments, detailTypes } from '../support/twin';

// A Wednesday: production's window opens on Sunday 02:00 UTC.
const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The demo catalog with these environments of checkout in shadow mode. */
function shadowCatalog(...environments: string[]) {
  const catalog = structuredClone(demoCatalog) as unknown as {
    components: { checkout: { environments: Record<string, Record<string, unknown>> } };
  };
  for (const env of environments)
    catalog.components.checkout.environments[env] = {
      ...catalog.components.checkout.environments[env],
      mode: 'shadow',
    };
  return catalog;
}

async function open(catalog: unknown) {
  stack = await LocalStack.start({ startAt: START, catalog: parseCatalog(catalog) });
  stack.transport.record(true);
  return stack;
}

describe('shadow mode: decide for real, deploy nothing (decision 0030)', () => {
  it('a shadowed production upgrade records SHADOWED with the decision and creates no deployment', async () => {
    // Prepare
    const s = await open(shadowCatalog('production'));
    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    await s.drain();
    // Assess: the outcome, what it would have done and when
    expect(record?.outcome).toBe('SHADOWED');
    expect(record?.reasons[0]).toEqual({
      code: 'SHADOWED',
      message:
        'shadow mode: would have deployed 1.0.0 -> 1.1.0 with CodeDeployDefault.LambdaCanary10Percent15Minutes and a 30-minute bake, once approved by 1 of the approvers (no one was asked), not before 2026-12-06T02:00:00.000Z; nothing deployed',
    });
    expect(record?.reasons.map((r) => r.code)).toEqual([
      'SHADOWED',
      'MANUAL_APPROVAL_REQUIRED',
      'OUTSIDE_WINDOW',
    ]);
    const plan = shadowPlanSchema.parse(record?.evidence.shadow);
    expect(plan).toMatchObject({
      decision: 'MANUAL_REVIEW',
      action: 'deploy',
      version: '1.1.0',
      fromVersion: '1.0.0',
      deploymentConfig: 'CodeDeployDefault.LambdaCanary10Percent15Minutes',
      bakeMinutes: 30,
      earliestStartAt: '2026-12-06T02:00:00.000Z',
      waitsFor: ['approval', 'allowed-time'],
      approvals: { required: 1, groups: [] },
      decidedAt: START.toISOString(),
    });
    // The decision with its trace is the evidence, as for a live run.
    const decision = record?.evidence.decision as { decision: string; trace: { check: string }[] };
    expect(decision.decision).toBe('MANUAL_REVIEW');
    expect(decision.trace.map((t) => t.check)).toContain('maintenance-window');
    expect(record?.history.map((h) => h.stage)).toEqual(['Intake', 'Lock', 'Verify', 'Decide', 'Record']);
    // Nothing deployed, nobody paged: no CreateDeployment, no Deploy call, no approval request.
    expect(deployments(s)).toEqual([]);
    expect(s.transport.calls.filter((c) => c.command === 'CreateDeployment')).toEqual([]);
    expect(s.transport.calls.filter((c) => c.caller === 'Deploy')).toEqual([]);
    expect(await s.stores.approvals.listPending(10)).toEqual([]);
    expect(detailTypes(s)).toEqual(['Upgrade Started', 'Upgrade Shadowed']);
    const shadowed = busEvents(s).find((e) => e['detail-type'] === 'Upgrade Shadowed');
    expect(shadowed?.detail).toMatchObject({ outcome: 'SHADOWED', version: '1.1.0', shadow: plan });
    // The registry still names what serves; the lock is free.
    expect((await s.stores.registry.get('checkout', 'production'))?.current.version).toBe('1.0.0');
    expect((await s.stores.locks.get('checkout#production'))?.owner).toBeUndefined();
  });

  it('a shadow approval is immediate: the plan starts at the decision; the same version may later be published for real', async () => {
    // Prepare
    const s = await open(shadowCatalog('development'));
    // Act
    const first = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    const again = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    // Assess: APPROVE in development, planned at once, nothing deployed
    expect(first.record?.outcome).toBe('SHADOWED');
    expect(first.record?.evidence.shadow).toMatchObject({
      decision: 'APPROVE',
      action: 'deploy',
      earliestStartAt: START.toISOString(),
      waitsFor: [],
    });
    // The dedupe claim was released: the same version is decided again, not a DUPLICATE.
    expect(again.record?.outcome).toBe('SHADOWED');
    expect(deployments(s)).toEqual([]);
    const claim = await s.stores.dedupe.claim('checkout#development#1.1.0', 'live-run', START.toISOString());
    expect(claim.claimed).toBe(true);
  });

  it('a live environment beside a shadowed one deploys as before', async () => {
    // Prepare
    const s = await open(shadowCatalog('production'));
    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    expect(record?.evidence.shadow).toBeUndefined();
    expect(deployments(s)).toHaveLength(1);
  });

  it('an unknown mode is refused with the field and what was expected', () => {
    // Prepare
    const catalog = shadowCatalog();
    (catalog.components.checkout.environments.staging as Record<string, unknown>).mode = 'dry-run';
    // Act
    const parse = () => parseCatalog(catalog);
    // Assess
    expect(parse).toThrow(InvalidDocument);
    expect(parse).toThrow(/components\.checkout\.environments\.staging\.mode: expected "live" or "shadow"/);
  });
});
