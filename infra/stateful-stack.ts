import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { tableKeys } from '../shared/aws/table-definition';

export interface UpshiftStatefulProps extends StackProps {
  /** The bus's name; `upshift` by default. */
  busName?: string;
  /**
   * Whether the table outlives `cdk destroy` (retained, with deletion protection). True by
   * default; a throwaway stack (infra/examples/) sets it to false, so destroy removes the table.
   */
  retainData?: boolean;
}

/**
 * What must outlive a redeploy: the table (registry, locks, workflows, approvals, catalog,
 * policies) and the event bus. Kept apart from the functions so a stateless change never
 * replaces data.
 */
export class UpshiftStatefulStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: UpshiftStatefulProps = {}) {
    super(scope, id, props);
    const retain = props.retainData ?? true;
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: tableKeys.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableKeys.sortKey, type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [
        {
          indexName: tableKeys.gsi1.name,
          partitionKey: { name: tableKeys.gsi1.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: tableKeys.gsi1.sortKey, type: dynamodb.AttributeType.STRING },
        },
      ],
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: tableKeys.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName ?? 'upshift' });
    // What `upshift --stack` reads (DescribeStacks); plain outputs, no exports.
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The Upshift table' });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName, description: 'The Upshift bus' });
  }
}
