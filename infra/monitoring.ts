import { Aspects, CfnOutput, Duration, type IAspect, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import type { Catalog } from '../shared/domain/catalog';
import { outcomes } from '../shared/domain/events/upshift-events';
import { DEFAULT_DIMENSIONS, METRICS_NAMESPACE, metricNames } from '../shared/runtime/metric-names';
import { stackScopedName } from './arns';

export interface UpshiftMonitoringProps {
  /** The upgrade state machine: failed, timed-out and aborted executions alarm. */
  stateMachine: sfn.IStateMachine;
  /**
   * Dead-letter queues outside this stack to watch too. Every SQS queue of this stack is watched
   * anyway: Upshift uses queues only as dead-letter queues (rule targets, CI feedback, waves).
   */
  deadLetterQueues?: sqs.IQueue[];
  /** The Upshift bus, archived for replay. */
  bus: events.IEventBus;
  /**
   * The catalog: the in-flight age threshold is, by default, the longest approval any of its
   * policies may wait, plus an hour.
   */
  catalog?: Catalog;
  /** An address subscribed to the operations topic (it must confirm the subscription). */
  operatorEmail?: string;
  /** How long the bus archive keeps events (30 days by default). */
  archiveRetention?: Duration;
  /** An upgrade in flight for longer than this alarms (see `catalog`; 25 hours without one). */
  inFlightAgeThreshold?: Duration;
}

/** What a user of UpgradePipeline may set (props `monitoring`, or the app's context). */
export type MonitoringOptions = Pick<
  UpshiftMonitoringProps,
  'operatorEmail' | 'archiveRetention' | 'inFlightAgeThreshold'
>;

/**
 * The monitoring of a pipeline, from its public members; options from its props, else from the
 * context (`upshift:operatorEmail`, `upshift:archiveRetentionDays`, `upshift:inFlightAgeHours`).
 */
export function monitoringProps(
  pipeline: Construct & {
    stateMachine: sfn.IStateMachine;
    deadLetters: sqs.IQueue;
    bus: events.IEventBus;
    catalog: Catalog;
  },
  props: { monitoring?: MonitoringOptions } = {},
): UpshiftMonitoringProps {
  const context = (key: string) => pipeline.node.tryGetContext(`upshift:${key}`) as unknown;
  const number = (key: string): number | undefined => {
    const value = context(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(`context upshift:${key} must be a positive number, got ${JSON.stringify(value)}`);
    }
    return n;
  };
  const days = number('archiveRetentionDays');
  const hours = number('inFlightAgeHours');
  const email = context('operatorEmail');
  return {
    stateMachine: pipeline.stateMachine,
    deadLetterQueues: [pipeline.deadLetters],
    bus: pipeline.bus,
    catalog: pipeline.catalog,
    ...(typeof email === 'string' && email ? { operatorEmail: email } : {}),
    ...(days ? { archiveRetention: Duration.days(days) } : {}),
    ...(hours ? { inFlightAgeThreshold: Duration.hours(hours) } : {}),
    ...props.monitoring,
  };
}

/** CloudWatch takes at most 10 metrics in one metric math alarm (a hard limit). */
export const METRICS_PER_ALARM = 10;

const PERIOD = Duration.minutes(5);

/**
 * Upshift watching itself (docs/operations.md): alarms on failed, timed-out and aborted
 * executions, on any message in a dead-letter queue, on any function's errors and throttles and on
 * the oldest upgrade in flight; every alarm notifies the operations topic (KMS-encrypted, TLS
 * only) when it enters ALARM and when it is OK again; a dashboard of upgrades by outcome, time to
 * complete, rollbacks, approvals waiting, reaction time, executions and dead letters; and an
 * archive of the Upshift bus for replay.
 *
 * The function and dead-letter alarms cover every Lambda function and SQS queue of the stack, also
 * those added after this construct (the approvals' functions, CI feedback's queue, a function of
 * your own): they and the dashboard are made when the stack is prepared for synthesis, from what
 * it then holds (an aspect, as cdk-monitoring-constructs does).
 */
export class UpshiftMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboardName: string;
  readonly archive: events.CfnArchive;
  /** Every alarm of this construct (the function, queue alarms are added when the stack is prepared). */
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;
  private readonly stateMachine: sfn.IStateMachine;
  private readonly extraQueues: sqs.IQueue[];
  private prepared = false;

  constructor(scope: Construct, id: string, props: UpshiftMonitoringProps) {
    super(scope, id);
    const { stateMachine, bus } = props;
    this.stateMachine = stateMachine;
    this.extraQueues = props.deadLetterQueues ?? [];
    this.dashboardName = stackScopedName(this, 'upshift', 255);

    // The operations topic, encrypted with a key CloudWatch may use to publish alarm notifications.
    const key = new kms.Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'Encrypts the Upshift operations topic; CloudWatch alarms may use it to publish.',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The key policy SNS documents for CloudWatch alarms publishing to an encrypted topic, without
    // conditions: AWS documents no aws:SourceAccount/aws:SourceArn in the KMS request CloudWatch
    // makes here, and a condition on a key absent from the request would silently drop every alarm
    // notification. The key encrypts this topic only, and the topic's own policy (below) admits
    // only this account's alarms (decision 0025).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'OperationsTopic', {
      displayName: 'Upshift operations',
      enforceSSL: true,
    });
    // By key id, as the approvals topic: SNS accepts it, and the template names the key with a
    // plain Ref (which the local twin resolves; it gives no key an ARN).
    (this.topic.node.defaultChild as sns.CfnTopic).kmsMasterKeyId = key.keyId;
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (props.operatorEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.operatorEmail));
    }
    this.action = new actions.SnsAction(this.topic);

    // Executions that ended badly. Record catches what a step raises, so each of these is an
    // upgrade the pipeline could not finish itself (ExecutionEnded closes its records).
    const executions = [
      ['ExecutionsFailed', stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }), 'failed'],
      ['ExecutionsTimedOut', stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }), 'timed out'],
      ['ExecutionsAborted', stateMachine.metricAborted({ period: PERIOD, statistic: 'Sum' }), 'aborted'],
    ] as const;
    for (const [name, metric, what] of executions) {
      this.alarm(name, metric, {
        threshold: 1,
        description: `An upgrade execution ${what}: it ended outside its own error handling. See docs/operations.md (${name}).`,
      });
    }

    // An upgrade Upshift could not finish (FAILED: a step failed and the execution recorded it) or
    // whose revert failed (ROLLBACK_FAILED: the target may serve a bad version). Each is a human's
    // call; Record emits them (the Upgrades metric by outcome).
    this.alarm(
      'UpgradesFailed',
      new cloudwatch.MathExpression({
        expression: 'MAX([failed, rollbackFailed])',
        usingMetrics: {
          failed: upshiftMetric(metricNames.upgrades, 'Sum', { Outcome: 'FAILED' }, PERIOD),
          rollbackFailed: upshiftMetric(metricNames.upgrades, 'Sum', { Outcome: 'ROLLBACK_FAILED' }, PERIOD),
        },
        label: 'upgrades FAILED or ROLLBACK_FAILED',
        period: PERIOD,
      }),
      {
        threshold: 1,
        description: 'An upgrade ended FAILED or ROLLBACK_FAILED. See docs/operations.md (UpgradesFailed).',
      },
    );

    // The oldest upgrade in flight, as the reconciler measures it each tick (its open waits). The
    // Maximum over 15 minutes sees every deployment wait, which the reconciler reads at least every
    // UPSHIFT_RECONCILE_SECONDS (5 minutes by default).
    const ageThreshold = props.inFlightAgeThreshold ?? defaultInFlightAgeThreshold(props.catalog);
    this.alarm(
      'OldestInFlightUpgrade',
      upshiftMetric(metricNames.oldestInFlightAge, 'Maximum', {}, Duration.minutes(15)),
      {
        threshold: ageThreshold.toSeconds(),
        description: `An upgrade has waited on a deployment or an approval for more than ${ageThreshold.toHumanString()}. See docs/operations.md (OldestInFlightUpgrade).`,
      },
    );

    this.archive = new events.CfnArchive(this, 'BusArchive', {
      sourceArn: bus.eventBusArn,
      description: 'Every event on the Upshift bus, for replay (docs/operations.md).',
      retentionDays: (props.archiveRetention ?? Duration.days(30)).toDays(),
    });

    // The function and queue alarms and the dashboard once the stack holds everything (see above).
    const self = this;
    Aspects.of(Stack.of(this)).add({
      visit(node: IConstruct) {
        if (node === self) self.watchStack();
      },
    } satisfies IAspect);

    for (const [outputId, value, description] of [
      ['OperationsTopicArn', this.topic.topicArn, 'The SNS topic every Upshift alarm notifies'],
      ['DashboardName', this.dashboardName, 'The Upshift CloudWatch dashboard'],
      ['EventArchiveArn', this.archive.attrArn, 'The archive of the Upshift bus (aws events start-replay)'],
    ] as const) {
      new CfnOutput(this, `${outputId}Output`, { value, description }).overrideLogicalId(outputId);
    }
    Validations.of(key).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'A key policy names its own key as "*"; the statement is limited to CloudWatch of this account.',
    });
  }

  /** One alarm on `metric` (ALARM at `threshold` or more), notifying the topic both ways. */
  private alarm(
    name: string,
    metric: cloudwatch.IMetric,
    options: { threshold: number; description: string },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, name, {
      alarmName: stackScopedName(this, `upshift-${kebab(name)}`, 255),
      alarmDescription: options.description,
      metric,
      threshold: options.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // No datapoint is no failure: these metrics are published only when something happens.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** The alarms on what the stack holds once it is complete, then the dashboard. */
  private watchStack(): void {
    if (this.prepared) return;
    this.prepared = true;
    const stack = Stack.of(this);
    const inStack = stack.node.findAll().filter((c) => Stack.of(c) === stack);
    const queues = [
      ...inStack.filter((c): c is sqs.Queue => c instanceof sqs.Queue),
      ...this.extraQueues.filter((q) => Stack.of(q) !== stack),
    ].sort((a, b) => a.node.path.localeCompare(b.node.path));
    this.watchQueues(queues);
    this.watchFunctions(
      inStack
        .filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction)
        .sort((a, b) => a.node.path.localeCompare(b.node.path)),
    );
    this.buildDashboard(this.stateMachine, queues);
  }

  /** One message in a dead-letter queue is an event or schedule tick no target handled. */
  private watchQueues(queues: sqs.IQueue[]): void {
    for (const queue of queues) {
      this.alarm(
        `DeadLetters${pascal(queue.node.path.split('/').slice(1).join('-'))}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        {
          threshold: 1,
          description: `A message in the dead-letter queue ${queue.node.path}: an event that could not be delivered after its retries. See docs/operations.md (DeadLetters).`,
        },
      );
    }
  }

  /**
   * Errors and Throttles of every function of this stack: MAX over up to 10 functions per alarm
   * (CloudWatch's limit for metric math alarms), so each function is covered by exactly one
   * Errors alarm and one Throttles alarm, and a few alarms cover them all.
   */
  private watchFunctions(functions: lambda.CfnFunction[]): void {
    for (let start = 0; start < functions.length; start += METRICS_PER_ALARM) {
      const group = functions.slice(start, start + METRICS_PER_ALARM);
      const part = functions.length > METRICS_PER_ALARM ? String(start / METRICS_PER_ALARM + 1) : '';
      const names = group.map((f) => f.node.path.split('/').slice(-2, -1)[0] ?? f.node.id).join(', ');
      for (const metricName of ['Errors', 'Throttles'] as const) {
        const usingMetrics = Object.fromEntries(
          group.map((fn, i) => [
            `f${i}`,
            new cloudwatch.Metric({
              namespace: 'AWS/Lambda',
              metricName,
              dimensionsMap: { FunctionName: fn.ref },
              statistic: 'Sum',
              period: PERIOD,
            }),
          ]),
        );
        this.alarm(
          `Function${metricName}${part}`,
          new cloudwatch.MathExpression({
            expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`,
            usingMetrics,
            label: `${metricName} of the most affected function`,
            period: PERIOD,
          }),
          {
            threshold: 1,
            description: `${metricName === 'Errors' ? 'A function failed' : 'A function was throttled'} (${names}). See docs/operations.md (Function${metricName}).`,
          },
        );
      }
    }
  }

  private buildDashboard(stateMachine: sfn.IStateMachine, queues: sqs.IQueue[]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: this.dashboardName,
      defaultInterval: Duration.days(7),
    });
    const hour = Duration.hours(1);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Upgrades by outcome (per hour)',
        width: 12,
        stacked: true,
        left: outcomes.map((outcome) =>
          upshiftMetric(metricNames.upgrades, 'Sum', { Outcome: outcome }, hour).with({ label: outcome }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Time to complete an upgrade (execution time)',
        width: 12,
        left: (['p50', 'p90', 'Maximum'] as const).map((statistic) =>
          stateMachine.metricTime({ statistic, period: hour, label: statistic }),
        ),
        leftYAxis: { label: 'ms', showUnits: false },
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Rollbacks and reverts (per hour)',
        width: 8,
        left: [upshiftMetric(metricNames.rollbacks, 'Sum', {}, hour).with({ label: 'Rollbacks' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Approvals waiting',
        width: 8,
        left: [upshiftMetric(metricNames.approvalsWaiting, 'Maximum', {}, PERIOD).with({ label: 'waiting' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Reaction time: alarm to revert',
        width: 8,
        left: (['p50', 'Maximum'] as const).map((statistic) =>
          upshiftMetric(metricNames.reactionTime, statistic, {}, hour).with({ label: statistic }),
        ),
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Executions',
        width: 8,
        left: [
          stateMachine.metricStarted({ period: hour, statistic: 'Sum', label: 'started' }),
          stateMachine.metricSucceeded({ period: hour, statistic: 'Sum', label: 'succeeded' }),
          stateMachine.metricFailed({ period: hour, statistic: 'Sum', label: 'failed' }),
          stateMachine.metricTimedOut({ period: hour, statistic: 'Sum', label: 'timed out' }),
          stateMachine.metricAborted({ period: hour, statistic: 'Sum', label: 'aborted' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters',
        width: 8,
        left: queues.map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: 'Maximum',
            label: queue.node.id,
          }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest upgrade in flight (seconds)',
        width: 8,
        left: [upshiftMetric(metricNames.oldestInFlightAge, 'Maximum', {}, PERIOD).with({ label: 'oldest' })],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Upshift alarms',
        width: 24,
        alarms: this.alarms,
      }),
    );
    return dashboard;
  }
}

/** An Upshift EMF metric with its exact dimensions (shared/runtime/observability.ts). */
export function upshiftMetric(
  metricName: string,
  statistic: string,
  dimensions: Record<string, string>,
  period: Duration,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { ...DEFAULT_DIMENSIONS, ...dimensions },
    statistic,
    period,
  });
}

/**
 * The longest an approval may wait under the catalog's policies, plus an hour: an upgrade older
 * than that is waiting on something that should have ended. 25 hours without a catalog (the
 * default approval timeout is 24 hours).
 */
export function defaultInFlightAgeThreshold(catalog?: Catalog): Duration {
  const minutes = Object.values(catalog?.policies ?? {}).map(
    (p) => (p as { approvalTimeoutMinutes?: number }).approvalTimeoutMinutes ?? 24 * 60,
  );
  return Duration.minutes(Math.max(24 * 60, ...minutes) + 60);
}

const pascal = (path: string) =>
  path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
