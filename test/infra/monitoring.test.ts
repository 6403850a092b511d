import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import {
  defaultInFlightAgeThreshold,
  METRICS_PER_ALARM,
  monitoringProps,
  UpshiftMonitoring,
} from '../../infra/monitoring';
import { outcomes } from '../../shared/domain/events/upshift-events';
import { lambdaCatalog } from '../support/pipeline-parts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** A stack with a state machine, `functionCount` functions, a dead-letter queue and a bus. */
function monitoredStack(
  functionCount: number,
  options: { operatorEmail?: string; archiveDays?: number } = {},
) {
  const app = new App();
  const stack = new Stack(app, 'Ops', { env: { account: '111122223333', region: 'eu-west-1' } });
  const bus = new events.EventBus(stack, 'Bus', { eventBusName: 'upshift' });
  const stateMachine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
  });
  const deadLetters = new sqs.Queue(stack, 'DeadLetters');
  const monitoring = new UpshiftMonitoring(stack, 'Monitoring', {
    stateMachine,
    deadLetterQueues: [deadLetters],
    bus,
    catalog: lambdaCatalog(['alpha']),
    ...(options.operatorEmail ? { operatorEmail: options.operatorEmail } : {}),
    ...(options.archiveDays ? { archiveRetention: Duration.days(options.archiveDays) } : {}),
  });
  // Functions made after the monitoring construct are watched too (the approvals' functions are).
  for (let i = 0; i < functionCount; i++) {
    new lambda.Function(stack, `Fn${String(i).padStart(2, '0')}`, {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => ({})'),
    });
  }
  const template = Template.fromStack(stack);
  return { stack, template, monitoring, resources: template.toJSON().Resources as Resources };
}

function alarms(resources: Resources) {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([id, r]) => ({ id, ...r.Properties }) as Record<string, unknown> & { id: string });
}

const topicRef = (resources: Resources) => {
  const id = Object.keys(resources).find((k) => resources[k]?.Type === 'AWS::SNS::Topic');
  return { Ref: id };
};

describe('UpshiftMonitoring (infra/monitoring.ts)', () => {
  it('alarms on failed, timed-out and aborted executions of the state machine', () => {
    // Act
    const { template } = monitoredStack(1);
    // Assess
    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metricName,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('^Machine') } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on one message in each dead-letter queue', () => {
    // Act
    const { template } = monitoredStack(1);
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Threshold: 1,
    });
  });

  it("covers each function's Errors and Throttles exactly once, at most 10 functions per alarm", () => {
    // Act: 12 functions, 2 groups
    const { resources } = monitoredStack(12);
    const functionIds = Object.keys(resources).filter(
      (id) => resources[id]?.Type === 'AWS::Lambda::Function',
    );
    expect(functionIds).toHaveLength(12);
    for (const metricName of ['Errors', 'Throttles']) {
      const watching = alarms(resources).filter((a) =>
        (a.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[] | undefined)?.some(
          (m) => m.MetricStat?.Metric.MetricName === metricName,
        ),
      );
      // Assess: two alarms, MAX over each group, every function in exactly one of them
      expect(watching).toHaveLength(2);
      const covered = watching.flatMap((a) => {
        const metrics = a.Metrics as {
          Id: string;
          Expression?: string;
          ReturnData?: boolean;
          MetricStat?: { Metric: { Namespace: string; Dimensions: { Value: { Ref: string } }[] } };
        }[];
        const stats = metrics.filter((m) => m.MetricStat);
        expect(stats.length).toBeLessThanOrEqual(METRICS_PER_ALARM);
        const expression = metrics.find((m) => m.Expression);
        expect(expression?.Expression).toBe(`MAX([${stats.map((m) => m.Id).join(', ')}])`);
        expect(a.Threshold).toBe(1);
        return stats.map((m) => {
          expect(m.MetricStat?.Metric.Namespace).toBe('AWS/Lambda');
          return m.MetricStat?.Metric.Dimensions[0]?.Value.Ref;
        });
      });
      expect(covered.sort()).toEqual([...functionIds].sort());
    }
  });

  it('alarms on the oldest upgrade in flight from the metric the reconciler emits', () => {
    // Act
    const { template } = monitoredStack(1);
    // Assess: the exact namespace, name and dimensions of shared/runtime/observability.ts
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Upshift',
      MetricName: 'OldestInFlightAge',
      Dimensions: [{ Name: 'service', Value: 'upshift' }],
      Statistic: 'Maximum',
      Period: 900,
      Threshold: defaultInFlightAgeThreshold(lambdaCatalog(['alpha'])).toSeconds(),
    });
    // The longest approval the policies allow (24 h by default), plus an hour.
    expect(defaultInFlightAgeThreshold().toHours()).toBe(25);
  });

  it('alarms on an upgrade that ended FAILED or ROLLBACK_FAILED', () => {
    // Act
    const { resources } = monitoredStack(1);
    const alarm = alarms(resources).find((a) => String(a.AlarmName).endsWith('upgrades-failed'));
    // Assess: Record's Upgrades metric by outcome, with its exact dimensions
    const metrics = alarm?.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] } };
    }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('MAX([failed, rollbackFailed])');
    for (const [id, outcome] of [
      ['failed', 'FAILED'],
      ['rollbackFailed', 'ROLLBACK_FAILED'],
    ]) {
      expect(metrics.find((m) => m.Id === id)?.MetricStat?.Metric).toEqual({
        Namespace: 'Upshift',
        MetricName: 'Upgrades',
        Dimensions: [
          { Name: 'Outcome', Value: outcome },
          { Name: 'service', Value: 'upshift' },
        ],
      });
    }
    expect(alarm?.Threshold).toBe(1);
  });

  it('every alarm notifies the operations topic when it fires and when it is OK again', () => {
    // Act
    const { resources } = monitoredStack(3);
    const all = alarms(resources);
    // Assess: 3 executions + 1 queue + upgrades failed + 1 age + Errors and Throttles
    expect(all).toHaveLength(8);
    for (const alarm of all) {
      expect(alarm.AlarmActions).toEqual([topicRef(resources)]);
      expect(alarm.OKActions).toEqual([topicRef(resources)]);
      expect(String(alarm.AlarmName)).toMatch(/^Ops-upshift-/);
    }
  });

  it('the operations topic is encrypted with a rotated KMS key, TLS only, and open to CloudWatch of this account', () => {
    // Act
    const { template, resources } = monitoredStack(1, { operatorEmail: 'oncall@example.com' });
    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { Ref: Match.stringLikeRegexp('TopicKey') },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            // The documented form: no condition (none documented in CloudWatch's KMS request).
            Condition: Match.absent(),
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef(resources)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: topicRef(resources),
    });
  });

  it('subscribes no one unless an address is given', () => {
    const { template } = monitoredStack(1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('archives every event of the Upshift bus, 30 days by default', () => {
    // Act
    const byDefault = monitoredStack(1).template;
    const longer = monitoredStack(1, { archiveDays: 90 }).template;
    // Assess: no event pattern, so every event is kept
    byDefault.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bus'), 'Arn'] },
      RetentionDays: 30,
      EventPattern: Match.absent(),
    });
    longer.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 90 });
  });

  it('the dashboard shows upgrades by outcome, time to complete, rollbacks, approvals waiting, reaction time, executions and dead letters', () => {
    // Act
    const { resources, monitoring, stack } = monitoredStack(2);
    const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(stack.resolve(dashboard?.Properties.DashboardBody));
    // Assess: the EMF metrics by their exact namespace, names and dimensions
    expect(dashboard?.Properties.DashboardName).toBe(monitoring.dashboardName);
    for (const outcome of outcomes) {
      expect(body).toContain(
        `\\"Upshift\\",\\"Upgrades\\",\\"Outcome\\",\\"${outcome}\\",\\"service\\",\\"upshift\\"`,
      );
    }
    for (const name of ['Rollbacks', 'ApprovalsWaiting', 'ReactionTime', 'OldestInFlightAge']) {
      expect(body).toContain(`\\"Upshift\\",\\"${name}\\",\\"service\\",\\"upshift\\"`);
    }
    for (const name of ['ExecutionTime', 'ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed']) {
      expect(body).toContain(`\\"AWS/States\\",\\"${name}\\"`);
    }
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    // The alarm status widget lists every alarm, the function alarms made later included.
    expect(monitoring.alarms.length).toBe(8);
    for (const { id } of alarms(resources)) expect(body).toContain(`{"Fn::GetAtt":["${id}","Arn"]}`);
  });
});

describe('monitoringProps: the options from the props or the context', () => {
  function pipelineWith(context: Record<string, unknown>) {
    const stack = new Stack(new App({ context }), 'Ctx');
    const scope = new Construct(stack, 'Pipeline');
    return Object.assign(scope, {
      stateMachine: new sfn.StateMachine(stack, 'Machine', {
        definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
      }),
      deadLetters: new sqs.Queue(stack, 'DeadLetters'),
      bus: new events.EventBus(stack, 'Bus'),
      catalog: lambdaCatalog(['alpha']),
    });
  }

  it('reads the operator email, the archive retention and the in-flight threshold from the context', () => {
    // Act
    const props = monitoringProps(
      pipelineWith({
        'upshift:operatorEmail': 'oncall@example.com',
        'upshift:archiveRetentionDays': '90',
        'upshift:inFlightAgeHours': 48,
      }),
    );
    // Assess
    expect(props.operatorEmail).toBe('oncall@example.com');
    expect(props.archiveRetention?.toDays()).toBe(90);
    expect(props.inFlightAgeThreshold?.toHours()).toBe(48);
    expect(props.deadLetterQueues).toHaveLength(1);
  });

  it('lets the props win over the context, and refuses a number that is not one', () => {
    const pipeline = pipelineWith({ 'upshift:archiveRetentionDays': 90 });
    expect(
      monitoringProps(pipeline, {
        monitoring: { archiveRetention: Duration.days(7) },
      }).archiveRetention?.toDays(),
    ).toBe(7);
    expect(() => monitoringProps(pipelineWith({ 'upshift:archiveRetentionDays': 'a month' }))).toThrow(
      /upshift:archiveRetentionDays must be a positive number/,
    );
  });
});

describe('the monitoring of the deployed app', () => {
  let stateless: Template;
  let resources: Resources;

  beforeAll(() => {
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], 'upshift:catalog': 'catalog/demo.catalog.json' },
    });
    const built = buildApp(app);
    // cdk-nag's AwsSolutions checks run on synth (buildApp adds them): a finding throws here.
    app.synth();
    stateless = Template.fromStack(built.stateless);
    resources = stateless.toJSON().Resources as Resources;
  });

  it("watches every function of the stateless stack, the approvals' included, and its dead-letter queues", () => {
    // Prepare
    const functionIds = Object.keys(resources).filter(
      (id) => resources[id]?.Type === 'AWS::Lambda::Function',
    );
    const queueIds = Object.keys(resources).filter((id) => resources[id]?.Type === 'AWS::SQS::Queue');
    // Act
    const watched = JSON.stringify(alarms(resources));
    // Assess
    expect(functionIds.some((id) => id.includes('ApprovalsApi'))).toBe(true);
    for (const id of functionIds) {
      expect(watched.match(new RegExp(`"Ref":"${id}"`, 'g'))?.length, id).toBe(2);
    }
    for (const id of queueIds) expect(watched).toContain(`"${id}","QueueName"`);
  });

  it('names the topic, the dashboard and the archive in the outputs', () => {
    const outputs = stateless.toJSON().Outputs as Record<string, unknown>;
    expect(outputs).toHaveProperty('OperationsTopicArn');
    expect(outputs).toHaveProperty('DashboardName');
    expect(outputs).toHaveProperty('EventArchiveArn');
  });

  it('every function runs the Powertools layer of the pinned version, resolved in its region', () => {
    for (const [id, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      if (!JSON.stringify(r.Properties).includes('upshift:entry')) continue;
      expect(r.Properties.Layers, id).toEqual([
        '{{resolve:ssm:/aws/service/powertools/typescript/generic/all/2.36.0}}',
      ]);
    }
  });
});
