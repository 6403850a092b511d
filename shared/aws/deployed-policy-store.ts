import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { UpshiftError } from '../domain/errors';
import type { Policy } from '../domain/policy';
import type { DeployedCatalogPolicy, DeployedPolicyStore } from '../ports';
import { keys } from './dynamo-store';
import { awsDependencyError } from './errors';

/** The item of the catalog's policy as last deployed, beside the policy's versions. */
export const deployedPolicyKey = (environment: string) => ({
  pk: keys.policy(environment).pk,
  sk: 'CATALOG',
});

/**
 * The catalog's policies as deployed, one item per environment (`POLICY#<env>` / `CATALOG`),
 * written only by the deploy-time seeding. It is outside the policy's history (`V#...`) and the
 * policies listing (no gsi1 key), so `upshift policies` never shows it as a policy.
 */
export class DynamoDeployedPolicyStore implements DeployedPolicyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(environment: string): Promise<DeployedCatalogPolicy | undefined> {
    const out = await this.send('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: deployedPolicyKey(environment), ConsistentRead: true }),
      ),
    );
    if (!out.Item) return undefined;
    const { environment: env, policy, revision, deployedAt, pending } = out.Item;
    return {
      environment: env,
      policy,
      revision,
      deployedAt,
      ...(pending === true ? { pending: true } : {}),
    } as DeployedCatalogPolicy;
  }

  async put(
    environment: string,
    policy: Policy,
    at: string,
    expectedRevision?: number,
    options: { pending?: boolean } = {},
  ): Promise<DeployedCatalogPolicy> {
    const stored: DeployedCatalogPolicy = {
      environment,
      policy,
      revision: (expectedRevision ?? 0) + 1,
      deployedAt: at,
      ...(options.pending ? { pending: true } : {}),
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...deployedPolicyKey(environment), ...stored },
          ...(expectedRevision === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#r = :prev',
                ExpressionAttributeNames: { '#r': 'revision' },
                ExpressionAttributeValues: { ':prev': expectedRevision },
              }),
        }),
      );
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        throw new DeployedPolicyChanged(environment, expectedRevision);
      }
      throw awsDependencyError('DynamoDB PutItem (deployed catalog policy)', error);
    }
    return stored;
  }

  async firstSeeded(environment: string): Promise<Policy | undefined> {
    const out = await this.send('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: keys.policyVersion(environment, 1),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item?.updatedBy === LEGACY_SEED_AUTHOR ? (out.Item.policy as Policy) : undefined;
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw awsDependencyError(`DynamoDB ${what} (deployed catalog policy)`, error);
    }
  }
}

/** Another deploy recorded the environment's catalog policy between our read and our write. */
export class DeployedPolicyChanged extends UpshiftError {
  constructor(
    readonly environment: string,
    readonly expectedRevision: number | undefined,
  ) {
    super(
      `the deployed catalog policy of ${environment} changed while this deploy seeded it (expected ${
        expectedRevision === undefined ? 'none' : `revision ${expectedRevision}`
      }); deploy again`,
    );
    this.name = 'DeployedPolicyChanged';
  }
}

/** The author the seeding of Upshift before decision 0026 gave version 1. */
export const LEGACY_SEED_AUTHOR = 'cdk';
