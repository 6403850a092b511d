import { describe, expect, it } from 'vitest';
import { createHandler, SEED_POLICIES_ID } from '../../functions/seed-policies/handler';
import type { Policy } from '../../shared/domain/policy';
import type {
  DeployedCatalogPolicy,
  DeployedPolicyStore,
  PolicyStore,
  StoredPolicy,
} from '../../shared/ports';

/** In-memory stores: enough to see what the handler asks of the use case. */
function memory() {
  const live = new Map<string, StoredPolicy>();
  const deployedItems = new Map<string, DeployedCatalogPolicy>();
  const policies: PolicyStore = {
    get: async (env) => live.get(env),
    list: async () => [...live.values()],
    history: async () => [],
    put: async (env, policy, by, at) => {
      const stored = {
        environment: env,
        version: (live.get(env)?.version ?? 0) + 1,
        policy,
        updatedBy: by,
        updatedAt: at,
      };
      live.set(env, stored);
      return stored;
    },
  };
  const deployed: DeployedPolicyStore = {
    get: async (env) => deployedItems.get(env),
    put: async (env, policy, at, expected) => {
      const item = {
        environment: env,
        policy: policy as Policy,
        revision: (expected ?? 0) + 1,
        deployedAt: at,
      };
      deployedItems.set(env, item);
      return item;
    },
    firstSeeded: async () => undefined,
  };
  return { policies, deployed, live, clock: { now: () => new Date('2026-12-02T10:00:00Z') } };
}

const context = { awsRequestId: 'r', functionName: 'SeedPolicies' } as never;

describe('the SeedPolicies custom resource handler', () => {
  it('Create and Update seed the policies from the JSON property and report each environment', async () => {
    // Arrange
    const m = memory();
    const handler = createHandler(m);
    const event = {
      RequestType: 'Create',
      ResourceProperties: {
        ServiceToken: 'arn',
        PoliciesJson: JSON.stringify({ production: { bakeMinutes: 20 } }),
      },
    };
    // Act
    const created = await handler(event, context);
    const updated = await handler(
      { ...event, RequestType: 'Update', PhysicalResourceId: SEED_POLICIES_ID },
      context,
    );
    // Assess
    expect(created).toEqual({
      PhysicalResourceId: SEED_POLICIES_ID,
      Data: { Environments: '1', First: '1', Changed: '0', Unchanged: '0', Same: '0' },
    });
    expect(updated).toEqual({
      PhysicalResourceId: SEED_POLICIES_ID,
      Data: { Environments: '1', First: '0', Changed: '0', Unchanged: '1', Same: '0' },
    });
    expect(m.live.get('production')?.updatedBy).toBe('cdk deploy');
  });

  it("answers with counts only, so the response stays under CloudFormation's 4,096 bytes for any catalog", async () => {
    // Arrange: 300 environments with long names (one line each would be ~15 KB).
    const m = memory();
    const names = Array.from({ length: 300 }, (_, i) => `environment-with-a-rather-long-name-${i}`);
    const policies = Object.fromEntries(names.map((n) => [n, { bakeMinutes: 20 }]));
    // Act
    const out = await createHandler(m)(
      { RequestType: 'Create', ResourceProperties: { PoliciesJson: JSON.stringify(policies) } },
      context,
    );
    // Assess: every environment seeded, and the answer does not grow with them.
    expect(m.live.size).toBe(300);
    expect(out).toEqual({
      PhysicalResourceId: SEED_POLICIES_ID,
      Data: { Environments: '300', First: '300', Changed: '0', Unchanged: '0', Same: '0' },
    });
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThan(200);
  });

  it('Delete writes nothing and keeps the physical id', async () => {
    // Arrange
    const m = memory();
    // Act
    const out = await createHandler(m)(
      {
        RequestType: 'Delete',
        PhysicalResourceId: SEED_POLICIES_ID,
        ResourceProperties: { PoliciesJson: '{}' },
      },
      context,
    );
    // Assess
    expect(out).toEqual({ PhysicalResourceId: SEED_POLICIES_ID });
    expect(m.live.size).toBe(0);
  });

  it('an invalid policy fails the resource with its path, and writes nothing', async () => {
    // Arrange
    const m = memory();
    // Act / Assess
    await expect(
      createHandler(m)(
        {
          RequestType: 'Update',
          ResourceProperties: { PoliciesJson: JSON.stringify({ production: { bakeMinuts: 3 } }) },
        },
        context,
      ),
    ).rejects.toThrow(/policies\.production\.bakeMinuts/);
    expect(m.live.size).toBe(0);
  });
});
