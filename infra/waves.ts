import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Catalog } from '../shared/domain/catalog';
import { rulePatterns } from '../shared/domain/patterns';
import { toCdkPattern } from './pipeline/rules';

/** The function's name in the pipeline (its tag; the twin finds its handler by it). */
export const PROMOTE_FUNCTION = 'Promote';

export interface PromotionWavesProps {
  /** The pipeline that owns the function (its role, log group and bundling). */
  pipeline: { addFunction(name: string, entry: string): lambda.Function };
  table: dynamodb.ITableV2;
  bus: events.IEventBus;
  /** The reconciler, which ends soaks and publishes the next stage. */
  reconciler: lambda.Function;
  /**
   * The pipeline's dead-letter queue (encrypted, TLS only): the rules' deliveries that failed, and
   * Promote's invocations that still failed after Lambda's two retries (its onFailure).
   */
  deadLetters: sqs.IQueue;
}

/** Whether any component of the catalog promotes through environments (docs/waves.md). */
export function hasPromotion(catalog: Pick<Catalog, 'components'>): boolean {
  return Object.values(catalog.components).some((c) => c.promotion !== undefined);
}

/**
 * Promotion waves (docs/waves.md): the Promote function on Upshift's own upgrade events (pattern
 * `promotionInputs`), which keeps each wave in the table, and the reconciler's grant to publish
 * the next stage when a soak ends. Least privilege: GetItem and UpdateItem on the table (UpdateItem
 * also creates the wave's items, conditionally; nothing is deleted), no index, and PutEvents on
 * the Upshift bus only; SendMessage on the pipeline's dead-letter queue for what it could not do.
 */
export class PromotionWaves extends Construct {
  readonly promote: lambda.Function;
  readonly rule: events.Rule;
  /** CI's Version Published, for the later stages' artifacts it names (`metadata.artifacts`). */
  readonly artifactsRule: events.Rule;

  constructor(scope: Construct, id: string, props: PromotionWavesProps) {
    super(scope, id);
    const { table, bus } = props;
    this.promote = props.pipeline.addFunction(PROMOTE_FUNCTION, 'functions/promote/handler.ts');
    this.promote.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
      }),
    );
    bus.grantPutEventsTo(this.promote);
    // Invoked asynchronously by the rules: an invocation that failed is retried twice by Lambda,
    // then goes to the dead-letter queue (with the event and the error), which the self-monitoring
    // alarms on (infra/monitoring.ts watches every queue of the stack), instead of being dropped.
    this.promote.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(props.deadLetters),
    });
    // The reconciler already reads and updates the table and queries its index; ending a soak
    // adds the next stage's Version Published (and coordinated rollbacks).
    bus.grantPutEventsTo(props.reconciler);
    const target = () =>
      new targets.LambdaFunction(this.promote, { deadLetterQueue: props.deadLetters, retryAttempts: 8 });
    this.rule = new events.Rule(this, 'UpgradeEventsRule', {
      eventBus: bus,
      description: "Upshift's upgrade events move promotion waves (docs/waves.md).",
      eventPattern: toCdkPattern(rulePatterns.promotionInputs),
      targets: [target()],
    });
    this.artifactsRule = new events.Rule(this, 'VersionPublishedArtifactsRule', {
      eventBus: bus,
      description: 'A published version: keep the artifacts it names for the later stages of its wave.',
      eventPattern: toCdkPattern(rulePatterns.versionPublished),
      targets: [target()],
    });
  }
}
