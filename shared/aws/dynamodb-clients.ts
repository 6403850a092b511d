import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoStores } from './dynamo-store';
import { type AwsBase, once } from './ports';

/** The table's stores (catalog, policies, registry, locks, workflows, approvals, waits, bakes). */
export function dynamoPorts(base: AwsBase) {
  return {
    stores: once(() =>
      dynamoStores(
        DynamoDBDocumentClient.from(base.client(DynamoDBClient), {
          marshallOptions: { removeUndefinedValues: true },
        }),
        base.config.UPSHIFT_TABLE_NAME,
      ),
    ),
  };
}
