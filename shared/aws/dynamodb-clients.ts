import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDeployedPolicyStore } from './deployed-policy-store';
import { dynamoStores } from './dynamo-store';
import { type AwsBase, once } from './ports';

/**
 * The table's stores (catalog, policies, registry, locks, workflows, approvals, waits, bakes), and
 * the catalog's policies as deployed (the deploy-time seeding's own items), over one client.
 */
export function dynamoPorts(base: AwsBase) {
  const document = once(() =>
    DynamoDBDocumentClient.from(base.client(DynamoDBClient), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );
  return {
    stores: once(() => dynamoStores(document(), base.config.UPSHIFT_TABLE_NAME)),
    deployedPolicies: once(() => new DynamoDeployedPolicyStore(document(), base.config.UPSHIFT_TABLE_NAME)),
  };
}
