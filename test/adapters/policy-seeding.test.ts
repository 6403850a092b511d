import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { callerArn } from '../../shared/aws/caller-identity';
import {
  DeployedPolicyChanged,
  DynamoDeployedPolicyStore,
  deployedPolicyKey,
} from '../../shared/aws/deployed-policy-store';
import { dynamoStores, keys } from '../../shared/aws/dynamo-store';
import { EventBridgePublisher } from '../../shared/aws/eventbridge-publisher';
import { type Policy, parsePolicies } from '../../shared/domain/policy';
import type { PolicyStore } from '../../shared/ports';
import { DEPLOY_AUTHOR, seedPolicies } from '../../shared/usecases/seed-policies';

let dynamo: LocalDynamo;
const clock = { now: () => new Date('2026-12-02T10:00:00Z') };
const policy = (bakeMinutes: number): Policy =>
  parsePolicies({ production: { bakeMinutes } }).policies.production as Policy;

function ports(table: string) {
  const stores = dynamoStores(dynamo.document, table);
  return {
    policies: stores.policies,
    deployed: new DynamoDeployedPolicyStore(dynamo.document, table),
    clock,
  };
}

let tables = 0;
async function freshTable() {
  const name = `seed-${++tables}`;
  const { createTableInput } = await import('../../shared/aws/table-definition');
  const { CreateTableCommand, waitUntilTableExists } = await import('@aws-sdk/client-dynamodb');
  await dynamo.client.send(new CreateTableCommand(createTableInput(name)));
  await waitUntilTableExists(
    { client: dynamo.client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: name },
  );
  return name;
}

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

describe('seedPolicies on dynalite (decision 0026)', () => {
  it('first deploy writes version 1 by cdk deploy and records the catalog policy as deployed', async () => {
    // Arrange
    const table = await freshTable();
    const p = ports(table);
    // Act
    const seeded = await seedPolicies({ production: policy(20) }, p);
    // Assess
    expect(seeded).toEqual([{ environment: 'production', action: 'first', version: 1 }]);
    expect(await p.policies.get('production')).toMatchObject({ version: 1, updatedBy: DEPLOY_AUTHOR });
    // Two writes: the mark before the version (pending), then its clearing.
    expect(await p.deployed.get('production')).toMatchObject({ revision: 2, policy: policy(20) });
    expect((await p.deployed.get('production'))?.pending).toBeUndefined();
    // The deployed item is not a version and not listed as a policy.
    expect(await p.policies.history('production', 10)).toHaveLength(1);
    expect((await p.policies.list()).map((x) => x.environment)).toEqual(['production']);
  });

  it('a table seeded by the earlier rule (version 1 by "cdk") is adopted: unchanged writes nothing, a person’s edit stays', async () => {
    // Arrange: what the earlier seeding wrote, then a person's put.
    const table = await freshTable();
    const p = ports(table);
    const stored = {
      environment: 'production',
      version: 1,
      policy: policy(20),
      updatedBy: 'cdk',
      updatedAt: 'deploy',
    };
    await dynamo.document.send(
      new PutCommand({
        TableName: table,
        Item: { ...keys.policyVersion('production', 1), ...stored, changes: [] },
      }),
    );
    await dynamo.document.send(
      new PutCommand({
        TableName: table,
        Item: { ...keys.policy('production'), ...stored, gsi1pk: 'POLICIES', gsi1sk: 'production' },
      }),
    );
    await p.policies.put('production', policy(45), 'alice', '2026-12-01T00:00:00.000Z');
    // Act
    const unchanged = await seedPolicies({ production: policy(20) }, p);
    const changed = await seedPolicies({ production: policy(30) }, p);
    // Assess
    expect(unchanged).toEqual([{ environment: 'production', action: 'unchanged', version: 2 }]);
    expect(changed).toEqual([{ environment: 'production', action: 'changed', version: 3 }]);
    const history = await p.policies.history('production', 10);
    expect(history.map((v) => v.updatedBy)).toEqual([DEPLOY_AUTHOR, 'alice', 'cdk']);
    expect(history[0]?.changes).toEqual([{ path: 'bakeMinutes', before: 45, after: 30 }]);
    expect(await p.deployed.get('production')).toMatchObject({ revision: 3, policy: policy(30) });
  });

  it('a changed catalog policy equal to a person’s edit writes no version', async () => {
    // Arrange
    const table = await freshTable();
    const p = ports(table);
    await seedPolicies({ production: policy(20) }, p);
    await p.policies.put('production', policy(30), 'alice', '2026-12-01T00:00:00.000Z');
    // Act
    const seeded = await seedPolicies({ production: policy(30) }, p);
    // Assess
    expect(seeded).toEqual([{ environment: 'production', action: 'same', version: 2 }]);
    expect(await p.policies.history('production', 10)).toHaveLength(2);
  });

  it('a put that lands between the read and the write makes the deploy read again: no update is lost', async () => {
    // Arrange: a policy store whose first put loses the race to alice's.
    const table = await freshTable();
    const p = ports(table);
    await seedPolicies({ production: policy(20) }, p);
    let raced = false;
    const racing: PolicyStore = {
      ...p.policies,
      get: (env) => p.policies.get(env),
      list: () => p.policies.list(),
      history: (env, limit) => p.policies.history(env, limit),
      put: async (env, value, by, at, options) => {
        if (!raced) {
          raced = true;
          await p.policies.put(env, policy(45), 'alice', '2026-12-02T09:59:00.000Z');
        }
        return p.policies.put(env, value, by, at, options);
      },
    };
    // Act
    const seeded = await seedPolicies({ production: policy(30) }, { ...p, policies: racing });
    // Assess
    expect(seeded).toEqual([{ environment: 'production', action: 'changed', version: 3 }]);
    const history = await p.policies.history('production', 10);
    expect(history.map((v) => [v.version, v.updatedBy])).toEqual([
      [3, DEPLOY_AUTHOR],
      [2, 'alice'],
      [1, DEPLOY_AUTHOR],
    ]);
    expect(history[0]?.changes).toEqual([{ path: 'bakeMinutes', before: 45, after: 30 }]);
  });

  it('a deploy that dies between its writes, then the stack rolls back: the previous catalog policy is live again', async () => {
    // Arrange: deployed with 20, then a deploy of 30 whose last write (the deployed record) fails.
    const table = await freshTable();
    const p = ports(table);
    await seedPolicies({ production: policy(20) }, p);
    let failRecord = true;
    const dying: typeof p.deployed = Object.assign(Object.create(p.deployed), {
      put: (...args: Parameters<typeof p.deployed.put>) => {
        if (failRecord && !args[4]?.pending) {
          failRecord = false;
          throw Object.assign(new Error('socket hang up'), { name: 'UpshiftDependencyError' });
        }
        return p.deployed.put(...args);
      },
    });
    await expect(seedPolicies({ production: policy(30) }, { ...p, deployed: dying })).rejects.toThrow(
      /socket hang up/,
    );
    expect(await p.policies.get('production')).toMatchObject({ version: 2, policy: policy(30) });
    expect(await p.deployed.get('production')).toMatchObject({ policy: policy(30), pending: true });
    // Act: CloudFormation rolls back, sending an Update with the previous properties.
    const rolledBack = await seedPolicies({ production: policy(20) }, p);
    // Assess: 20 is the newest version (the history shows both), and the record is clean.
    expect(rolledBack).toEqual([{ environment: 'production', action: 'changed', version: 3 }]);
    expect(await p.policies.get('production')).toMatchObject({
      version: 3,
      policy: policy(20),
      updatedBy: DEPLOY_AUTHOR,
    });
    const record = await p.deployed.get('production');
    expect(record).toMatchObject({ policy: policy(20) });
    expect(record?.pending).toBeUndefined();
    // A later deploy of the same catalog writes nothing.
    expect(await seedPolicies({ production: policy(20) }, p)).toEqual([
      { environment: 'production', action: 'unchanged', version: 3 },
    ]);
  });

  it('a deploy that died before its version was written is not "unchanged" when run again', async () => {
    // Arrange: deployed with 20; a deploy of 30 dies after its mark, before the version (no rollback,
    // as with `cdk deploy --no-rollback`).
    const table = await freshTable();
    const p = ports(table);
    await seedPolicies({ production: policy(20) }, p);
    const failing: PolicyStore = Object.assign(Object.create(p.policies), {
      put: async () => {
        throw Object.assign(new Error('throttled'), { name: 'UpshiftDependencyError' });
      },
    });
    await expect(seedPolicies({ production: policy(30) }, { ...p, policies: failing })).rejects.toThrow(
      /throttled/,
    );
    // Act: the same deploy again.
    const again = await seedPolicies({ production: policy(30) }, p);
    // Assess
    expect(again).toEqual([{ environment: 'production', action: 'changed', version: 2 }]);
    expect(await p.policies.get('production')).toMatchObject({ version: 2, policy: policy(30) });
    expect((await p.deployed.get('production'))?.pending).toBeUndefined();
  });

  it('the deployed record is written conditionally on the revision read', async () => {
    // Arrange
    const table = await freshTable();
    const { deployed } = ports(table);
    await deployed.put('production', policy(20), '2026-12-02T10:00:00.000Z');
    // Act / Assess
    await expect(deployed.put('production', policy(30), '2026-12-02T10:00:00.000Z')).rejects.toBeInstanceOf(
      DeployedPolicyChanged,
    );
    await expect(
      deployed.put('production', policy(30), '2026-12-02T10:00:00.000Z', 7),
    ).rejects.toBeInstanceOf(DeployedPolicyChanged);
    expect(await deployed.put('production', policy(30), '2026-12-02T10:00:00.000Z', 1)).toMatchObject({
      revision: 2,
    });
    expect(deployedPolicyKey('production')).toEqual({ pk: 'POLICY#production', sk: 'CATALOG' });
  });
});

describe('adapters the CLI adds', () => {
  it('callerArn sends GetCallerIdentity with no parameters and returns the Arn', async () => {
    // Arrange
    const sts = mockClient(STSClient);
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Arn: 'arn:aws:iam::123456789012:user/alice', Account: '123456789012' });
    // Act
    const arn = await callerArn(new STSClient({ region: 'eu-west-1' }));
    // Assess
    expect(arn).toBe('arn:aws:iam::123456789012:user/alice');
    expect(sts.commandCalls(GetCallerIdentityCommand)[0]?.args[0].input).toEqual({});
    sts.restore();
  });

  it('EventBridgePublisher.put returns each entry’s EventId, in order, across batches of 10', async () => {
    // Arrange
    const eb = mockClient(EventBridgeClient);
    let n = 0;
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({ EventId: `id-${++n}` })),
    }));
    const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'upshift');
    // Act
    const ids = await publisher.put(
      Array.from({ length: 12 }, (_, i) => ({
        source: 'upshift.cli',
        detailType: 'Version Published',
        detail: { i },
      })),
    );
    // Assess
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => `id-${i + 1}`));
    expect(eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([10, 2]);
    eb.restore();
  });
});
