import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';
import { deployments } from '../support/twin';

const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

async function open(catalog: unknown = demoCatalog) {
  stack = await LocalStack.start({
    catalog: parseCatalog(catalog),
    startAt: START,
    autoAnswer: { approve: true, by: 'ana@example.com' },
  });
  return stack;
}

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The demo catalog with production trusting GitHub's CI only. */
function productionTrusts(...sources: string[]) {
  const catalog = structuredClone(demoCatalog) as unknown as {
    policies: Record<string, Record<string, unknown>>;
  };
  catalog.policies.production = { ...catalog.policies.production, trustedSources: sources };
  return catalog;
}

function rollbackRequest(source: string) {
  return {
    version: '0',
    id: `rb-${Math.random().toString(16).slice(2)}`,
    'detail-type': 'Rollback Requested',
    source,
    account: '123456789012',
    time: START.toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      component: 'checkout',
      environment: 'production',
      reason: 'looks off',
      requestedBy: 'oncall@example.com',
    },
  };
}

describe('issue 9 finding 10: trusted sources', () => {
  it('an upgrade from a source the policy does not trust ends IGNORED before it seeds, claims or deploys anything', async () => {
    // Prepare
    const s = await open(productionTrusts('ci.github'));

    // Act: the same version from an untrusted source, then from CI
    const untrusted = await s.run(versionPublished({ version: '1.1.0', environment: 'production' }));
    const registryAfterUntrusted = await s.stores.registry.get('checkout', 'production');
    const trusted = await s.run({
      ...versionPublished({ version: '1.1.0', environment: 'production' }),
      source: 'ci.github',
    });

    // Assess
    expect(untrusted.record?.outcome).toBe('IGNORED');
    expect(untrusted.record?.reasons).toEqual([
      {
        code: 'UNTRUSTED_SOURCE',
        message: 'source "ci.test" is not in the trusted sources of production; the event starts nothing',
      },
    ]);
    expect(registryAfterUntrusted).toBeUndefined();
    // Its dedupe key was never claimed: CI's own event is judged on its merits, not as a duplicate
    expect(trusted.record?.history[0]).toMatchObject({ stage: 'Intake', status: 'ACCEPTED' });
    expect(deployments(s).every((d) => d.group === 'checkout-production')).toBe(true);
  });

  it('a rollback from an untrusted source is IGNORED too; an environment without a list accepts any source', async () => {
    // Prepare
    const s = await open(productionTrusts('ci.github'));

    // Act
    const rollback = await s.run(rollbackRequest('ops.test'));
    const staging = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(rollback.record?.outcome).toBe('IGNORED');
    expect(rollback.record?.reasons[0]?.code).toBe('UNTRUSTED_SOURCE');
    expect(staging.record?.outcome).toBe('COMPLETED');
    expect(deployments(s).map((d) => d.group)).toEqual(['checkout-staging']);
  });
});

describe('issue 9 finding 13: names that collide with Object.prototype members', () => {
  // Names are lowercase letters, digits and dashes: `constructor` is the member that passes.
  it('an environment called constructor is IGNORED as unknown, not looked up on the prototype', async () => {
    // Prepare
    const s = await open();

    // Act
    const { record, execution } = await s.run(
      versionPublished({ version: '1.1.0', environment: 'constructor' }),
    );

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(record?.outcome).toBe('IGNORED');
    expect(record?.reasons[0]?.code).toBe('UNKNOWN_ENVIRONMENT');
    expect(deployments(s)).toEqual([]);
  });

  it('a component called constructor is IGNORED as unknown', async () => {
    // Prepare
    const s = await open();

    // Act
    const { record } = await s.run(versionPublished({ component: 'constructor', version: '1.1.0' }));

    // Assess
    expect(record?.outcome).toBe('IGNORED');
    expect(record?.reasons[0]?.code).toBe('UNKNOWN_COMPONENT');
  });
});
