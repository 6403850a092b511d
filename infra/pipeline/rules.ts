import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { rulePatterns } from '../../shared/domain/patterns';
import type { PipelineFunctionMap } from './functions';

export interface PipelineRulesProps {
  /** The Upshift bus: published versions and rollback requests. */
  bus: events.IEventBus;
  stateMachine: sfn.StateMachine;
  functions: PipelineFunctionMap;
}

/**
 * What starts and resumes the pipeline, with the patterns defined once in
 * shared/domain/patterns.ts: on the Upshift bus, a published version or a rollback request starts
 * the state machine; on the account's default bus (where CodeDeploy, CloudWatch, ECR and Step
 * Functions publish), an ECR push starts it, and ended deployments, alarms entering ALARM and
 * executions that ended abnormally go to their helper functions; a schedule runs the reconciler
 * every minute. Every target has the same dead-letter queue. Resources go into `scope` (the
 * pipeline), as in PipelineFunctions.
 */
export class PipelineRules {
  /** Events no target accepted after its retries. */
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, props: PipelineRulesProps) {
    const { bus, stateMachine, functions: fns } = props;
    const dlq = new sqs.Queue(scope, 'RuleDeadLetters', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.deadLetters = dlq;
    const startTarget = new targets.SfnStateMachine(stateMachine, {
      deadLetterQueue: dlq,
      retryAttempts: 8,
      maxEventAge: Duration.hours(6),
    });
    new events.Rule(scope, 'VersionPublishedRule', {
      eventBus: bus,
      description: 'CI publishes a version: start an upgrade.',
      eventPattern: toCdkPattern(rulePatterns.versionPublished),
      targets: [startTarget],
    });
    // CodeDeploy, CloudWatch and ECR publish to the account's default bus only.
    const defaultBus = events.EventBus.fromEventBusName(scope, 'DefaultBus', 'default');
    new events.Rule(scope, 'EcrImagePushRule', {
      eventBus: defaultBus,
      description: 'An image pushed to ECR (AWS puts it on the default bus): start an upgrade.',
      eventPattern: toCdkPattern(rulePatterns.ecrImagePush),
      targets: [startTarget],
    });
    new events.Rule(scope, 'RollbackRequestedRule', {
      eventBus: bus,
      description: 'On-call asks for a rollback: stop the shift in flight, or go back to a known version.',
      eventPattern: toCdkPattern(rulePatterns.rollbackRequested),
      targets: [startTarget],
    });
    new events.Rule(scope, 'DeploymentEndedRule', {
      eventBus: defaultBus,
      description: 'A CodeDeploy deployment ended: resume the execution waiting for it.',
      eventPattern: toCdkPattern(rulePatterns.codeDeployDeploymentEnded),
      targets: [new targets.LambdaFunction(fns.DeploymentEvents, { deadLetterQueue: dlq, retryAttempts: 8 })],
    });
    new events.Rule(scope, 'AlarmEnteredAlarmRule', {
      eventBus: defaultBus,
      description: 'An alarm entered ALARM: end the bake watching it, so the revert starts now.',
      eventPattern: toCdkPattern(rulePatterns.alarmEnteredAlarm),
      targets: [new targets.LambdaFunction(fns.AlarmEvents, { deadLetterQueue: dlq, retryAttempts: 8 })],
    });
    new events.Rule(scope, 'ExecutionEndedRule', {
      eventBus: defaultBus,
      description:
        'An upgrade execution failed outside its Catch, timed out or was aborted: close what it left open.',
      eventPattern: toCdkPattern({
        ...rulePatterns.executionEndedAbnormally,
        detail: {
          ...rulePatterns.executionEndedAbnormally.detail,
          stateMachineArn: [stateMachine.stateMachineArn],
        },
      }),
      targets: [new targets.LambdaFunction(fns.ExecutionEnded, { deadLetterQueue: dlq, retryAttempts: 8 })],
    });
    new events.Rule(scope, 'ReconcileSchedule', {
      description: 'Reconcile: lost CodeDeploy events, bakes whose time is up, expired approvals.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fns.Reconcile, { deadLetterQueue: dlq, retryAttempts: 2 })],
    });
  }
}

/** Our patterns are plain EventBridge JSON; CDK's EventPattern type names the same keys. */
export function toCdkPattern(pattern: Record<string, unknown>): events.EventPattern {
  const { source, 'detail-type': detailType, detail, ...rest } = pattern as Record<string, never>;
  return {
    ...(source ? { source } : {}),
    ...(detailType ? { detailType } : {}),
    ...(detail ? { detail } : {}),
    ...rest,
  } as events.EventPattern;
}
