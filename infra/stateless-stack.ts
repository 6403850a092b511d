import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import type { Catalog } from '../shared/domain/catalog';
import { Approvals } from './approvals';
import { CiFeedback, type CiFeedbackProps, ciFeedbackFromContext } from './ci-feedback';
import { UpgradePipeline } from './upgrade-pipeline';

export class UpshiftStatelessStack extends Stack {
  readonly pipeline: UpgradePipeline;
  readonly approvals: Approvals;
  /** Feedback to CI, when configured (props, or the context upshift:ciFeedback). */
  readonly ciFeedback?: CiFeedback;

  constructor(
    scope: Construct,
    id: string,
    props: StackProps & {
      table: dynamodb.ITableV2;
      bus: events.IEventBus;
      catalog: Catalog;
      ciFeedback?: CiFeedbackProps['config'];
    },
  ) {
    super(scope, id, props);
    this.pipeline = new UpgradePipeline(this, 'Pipeline', {
      table: props.table,
      bus: props.bus,
      catalog: props.catalog,
    });
    this.approvals = new Approvals(this, 'Approvals', {
      pipeline: this.pipeline,
      table: props.table,
      bus: props.bus,
      catalog: props.catalog,
    });
    const feedback = props.ciFeedback ?? ciFeedbackFromContext(this);
    if (feedback) {
      this.ciFeedback = new CiFeedback(this, 'CiFeedback', {
        pipeline: this.pipeline,
        table: props.table,
        bus: props.bus,
        config: feedback,
      });
    }
    // What `upshift --stack UpshiftStateless` reads (DescribeStacks): everything the CLI needs in
    // one stack, so the table and bus names are repeated here. Plain outputs, no exports.
    new CfnOutput(this, 'TableName', { value: props.table.tableName, description: 'The Upshift table' });
    new CfnOutput(this, 'EventBusName', { value: props.bus.eventBusName, description: 'The Upshift bus' });
    new CfnOutput(this, 'StateMachineArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description: 'The upgrade state machine',
    });
  }
}
