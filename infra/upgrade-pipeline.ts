import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { Annotations, Aws, Duration, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { keys } from '../shared/aws/dynamo-store';
import { tableKeys } from '../shared/aws/table-definition';
import { type AlarmDefinition, alarmName, type Catalog, targetFor } from '../shared/domain/catalog';
import { codeDeployApplication, codeDeployGroup } from '../shared/domain/names';
import { rulePatterns } from '../shared/domain/patterns';
import { functionTags } from './function-tags';

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/**
 * How every function is bundled (esbuild, ESM). A test bundles a handler with these same options
 * and runs it, so a bundling mistake fails the tests, not a deploy.
 */
export const lambdaBundle = {
  target: 'node24',
  mainFields: ['module', 'main'],
  // middy is ESM-only; some dependencies still call require().
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  // The Node.js Lambda runtime provides the AWS SDK v3.
  external: ['@aws-sdk/*'],
};

/** The Lambda behind each `${NameFunctionArn}` substitution of the ASL, and the table access it needs. */
const steps = {
  // Intake's rollback path appends history and closes bake watches (UpdateItem).
  Intake: { entry: 'functions/intake/handler.ts', table: ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem'] },
  // Lock reads the queue of waiters for a component and environment (a Query on the table).
  Lock: {
    entry: 'functions/lock/handler.ts',
    table: ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Query'],
  },
  Verify: { entry: 'functions/verify/handler.ts', table: ['GetItem', 'UpdateItem'] },
  Decide: { entry: 'functions/decide/handler.ts', table: ['GetItem', 'UpdateItem'] },
  RequestApproval: {
    entry: 'functions/request-approval/handler.ts',
    table: ['GetItem', 'PutItem', 'UpdateItem'],
  },
  Deploy: { entry: 'functions/deploy/handler.ts', table: ['GetItem', 'PutItem', 'UpdateItem'] },
  CheckDeployment: { entry: 'functions/check-deployment/handler.ts', table: ['GetItem', 'UpdateItem'] },
  AwaitDeployment: {
    entry: 'functions/await-deployment/handler.ts',
    table: ['GetItem', 'PutItem', 'UpdateItem'],
  },
  StartBake: { entry: 'functions/start-bake/handler.ts', table: ['GetItem', 'PutItem', 'UpdateItem'] },
  FinalBakeCheck: { entry: 'functions/bake/handler.ts', table: ['GetItem', 'UpdateItem'] },
  Record: { entry: 'functions/record/handler.ts', table: ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem'] },
} as const;
type StepName = keyof typeof steps;

/** Functions outside the state machine: rule targets and the reconciler's schedule. */
const helpers = {
  DeploymentEvents: { entry: 'functions/deployment-events/handler.ts', table: ['GetItem', 'UpdateItem'] },
  AlarmEvents: { entry: 'functions/alarm-events/handler.ts', table: ['GetItem', 'UpdateItem'] },
  Reconcile: { entry: 'functions/reconcile/handler.ts', table: ['GetItem', 'UpdateItem'] },
} as const;
type HelperName = keyof typeof helpers;
type FunctionName = StepName | HelperName;

export interface UpgradePipelineProps {
  table: dynamodb.ITableV2;
  bus: events.IEventBus;
  catalog: Catalog;
  /** Seconds between polls of a deployment in flight and of the alarms during a bake. */
  pollSeconds?: number;
}

/**
 * Upshift's stateless half: the step functions, the state machine built from the same ASL the
 * local runtime runs, the rules, the CodeDeploy applications and deployment groups, the alarms,
 * and the catalog seeded into the table. Add it to your own app, or deploy UpshiftStatelessStack.
 */
export class UpgradePipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<FunctionName, nodejs.NodejsFunction>;

  constructor(scope: Construct, id: string, props: UpgradePipelineProps) {
    super(scope, id);
    const { table, bus, catalog } = props;
    const environment = {
      UPSHIFT_TABLE_NAME: table.tableName,
      UPSHIFT_EVENT_BUS_NAME: bus.eventBusName,
      UPSHIFT_POLL_SECONDS: String(props.pollSeconds ?? 30),
      UPSHIFT_LOG_LEVEL: 'info',
      NODE_OPTIONS: '--enable-source-maps',
    };

    this.environment = environment;
    const makeFunction = (name: string, entry: string) => this.addFunction(name, entry);

    // The one index by name, so no wildcard is needed.
    const tableArns = [table.tableArn, `${table.tableArn}/index/${tableKeys.gsi1.name}`];
    const fns = {} as Record<FunctionName, nodejs.NodejsFunction>;
    for (const [name, step] of Object.entries({ ...steps, ...helpers }) as [
      FunctionName,
      { entry: string; table: readonly string[] },
    ][]) {
      const fn = makeFunction(name, step.entry);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: step.table.map((a) => `dynamodb:${a}`),
          resources: [table.tableArn],
        }),
      );
      fns[name] = fn;
    }
    // Listing pending waits, bakes and approvals reads the index.
    for (const fn of [fns.Intake, fns.Reconcile]) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: tableArns }));
    }
    for (const fn of [fns.Intake, fns.Decide, fns.RequestApproval, fns.Record]) bus.grantPutEventsTo(fn);

    // Alarms and deployment groups per component and environment, from the catalog.
    const alarmArns: string[] = [];
    const groupArns: string[] = [];
    const applicationArns: string[] = [];
    const probeFunctionArns: string[] = [];
    for (const [componentName, component] of Object.entries(catalog.components)) {
      const app =
        component.target.type === 'lambda'
          ? new codedeploy.LambdaApplication(this, `App-${componentName}`, {
              applicationName: codeDeployApplication(componentName),
            })
          : component.target.type === 'ecs'
            ? new codedeploy.EcsApplication(this, `App-${componentName}`, {
                applicationName: codeDeployApplication(componentName),
              })
            : new codedeploy.ServerApplication(this, `App-${componentName}`, {
                applicationName: codeDeployApplication(componentName),
              });
      applicationArns.push(app.applicationArn);
      for (const envName of Object.keys(component.environments)) {
        const target = targetFor(component, envName);
        const groupName = codeDeployGroup(componentName, envName);
        const names = component.alarms.map((def) => alarmName(componentName, envName, def.id));
        groupArns.push(
          awsArn('codedeploy', `deploymentgroup:${codeDeployApplication(componentName)}/${groupName}`),
        );
        const alarms = component.alarms.map((def) => {
          const alarm = this.alarm(componentName, envName, def, target);
          alarmArns.push(alarm.alarmArn);
          return alarm;
        });
        if (target.type === 'lambda') {
          const fnArn = awsArn('lambda', `function:${target.functionName}`);
          probeFunctionArns.push(`${fnArn}:*`);
          // L1 because the function and its alias live outside this app; the group only names them.
          this.deploymentGroup(componentName, envName, app, alarms, names, {
            serviceRoleArn: this.codeDeployRole().roleArn,
            deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
          });
        } else if (target.type === 'ecs' && target.blueGreen) {
          const bg = target.blueGreen;
          this.deploymentGroup(componentName, envName, app, alarms, names, {
            serviceRoleArn: this.codeDeployRole('ecs').roleArn,
            deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
            ecsServices: [{ clusterName: target.cluster, serviceName: target.service }],
            loadBalancerInfo: {
              targetGroupPairInfoList: [
                {
                  targetGroups: [{ name: bg.blueTargetGroup }, { name: bg.greenTargetGroup }],
                  prodTrafficRoute: { listenerArns: [bg.prodListenerArn] },
                  ...(bg.testListenerArn ? { testTrafficRoute: { listenerArns: [bg.testListenerArn] } } : {}),
                },
              ],
            },
            blueGreenDeploymentConfiguration: {
              deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
              terminateBlueInstancesOnDeploymentSuccess: {
                action: 'TERMINATE',
                terminationWaitTimeInMinutes: 5,
              },
            },
          });
        } else {
          Annotations.of(this).addWarningV2(
            `upshift:no-group:${componentName}-${envName}`,
            `${componentName} in ${envName} is an ${target.type} target without the load balancer details (target.blueGreen for ECS) that its CodeDeploy deployment group needs, so none is provisioned. Create "${groupName}" in application "${codeDeployApplication(componentName)}".`,
          );
        }
      }
    }
    const configArns = [awsArn('codedeploy', 'deploymentconfig:CodeDeployDefault.*')];
    fns.Deploy.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:CreateDeployment'], resources: groupArns }),
    );
    // A revert overrides the group's alarm configuration, which CodeDeploy authorizes only with
    // UpdateDeploymentGroup on the group (CreateDeployment API reference, overrideAlarmConfiguration).
    fns.Deploy.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:UpdateDeploymentGroup'], resources: groupArns }),
    );
    fns.Deploy.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: configArns }),
    );
    fns.Deploy.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
        resources: applicationArns,
      }),
    );
    for (const fn of [
      fns.CheckDeployment,
      fns.AwaitDeployment,
      fns.DeploymentEvents,
      fns.Reconcile,
      fns.Intake,
    ]) {
      // GetDeployment and StopDeployment are authorized on the deployment group.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['codedeploy:GetDeployment', 'codedeploy:StopDeployment'],
          resources: groupArns,
        }),
      );
    }
    for (const fn of [
      fns.Decide,
      fns.CheckDeployment,
      fns.AwaitDeployment,
      fns.StartBake,
      fns.FinalBakeCheck,
      fns.DeploymentEvents,
      fns.AlarmEvents,
      fns.Reconcile,
    ]) {
      // DescribeAlarms has no resource-level permissions; the alarms are listed for the reader.
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }),
      );
    }
    if (Object.values(catalog.components).some((c) => c.target.type === 'ecs')) {
      // An ECR push becomes a task definition revision (shared/aws/ecs-task-definitions.ts). These
      // ECS actions have no resource-level permissions; PassRole is limited to ECS tasks.
      fns.Deploy.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition', 'ecs:TagResource'],
          resources: ['*'],
        }),
      );
      fns.Deploy.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: ['*'],
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
    }
    if (probeFunctionArns.length) {
      fns.Verify.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: probeFunctionArns }),
      );
    }

    // The state machine: the same ASL file the local runtime executes.
    const definition = readFileSync(root('statemachines/upgrade.asl.json'), 'utf8');
    const smLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A known name: the functions that answer task tokens need the ARN, and the definition needs
    // theirs; a name breaks that cycle.
    const stateMachineName = `${Stack.of(this).stackName}-upgrade`;
    this.stateMachine = new sfn.StateMachine(this, 'UpgradeStateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: Object.fromEntries(
        (Object.keys(steps) as StepName[]).map((name) => [`${name}FunctionArn`, fns[name].functionArn]),
      ),
      tracingEnabled: true,
      logs: { destination: smLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    for (const name of Object.keys(steps) as StepName[]) fns[name].grantInvoke(this.stateMachine);
    const stateMachineArn = awsArn('states', `stateMachine:${stateMachineName}`);
    for (const fn of [
      fns.AwaitDeployment,
      fns.StartBake,
      fns.DeploymentEvents,
      fns.AlarmEvents,
      fns.Reconcile,
      fns.Intake,
    ]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachineArn],
        }),
      );
    }
    this.functions = fns;

    // Rules: the patterns defined once in shared/domain/patterns.ts.
    const dlq = new sqs.Queue(this, 'RuleDeadLetters', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    const startTarget = new targets.SfnStateMachine(this.stateMachine, {
      deadLetterQueue: dlq,
      retryAttempts: 8,
      maxEventAge: Duration.hours(6),
    });
    new events.Rule(this, 'VersionPublishedRule', {
      eventBus: bus,
      description: 'CI publishes a version: start an upgrade.',
      eventPattern: toCdkPattern(rulePatterns.versionPublished),
      targets: [startTarget],
    });
    // CodeDeploy, CloudWatch and ECR publish to the account's default bus only.
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    new events.Rule(this, 'EcrImagePushRule', {
      eventBus: defaultBus,
      description: 'An image pushed to ECR (AWS puts it on the default bus): start an upgrade.',
      eventPattern: toCdkPattern(rulePatterns.ecrImagePush),
      targets: [startTarget],
    });
    new events.Rule(this, 'RollbackRequestedRule', {
      eventBus: bus,
      description: 'On-call asks for a rollback: stop the shift in flight, or go back to a known version.',
      eventPattern: toCdkPattern(rulePatterns.rollbackRequested),
      targets: [startTarget],
    });
    new events.Rule(this, 'DeploymentEndedRule', {
      eventBus: defaultBus,
      description: 'A CodeDeploy deployment ended: resume the execution waiting for it.',
      eventPattern: toCdkPattern(rulePatterns.codeDeployDeploymentEnded),
      targets: [new targets.LambdaFunction(fns.DeploymentEvents, { deadLetterQueue: dlq, retryAttempts: 8 })],
    });
    new events.Rule(this, 'AlarmEnteredAlarmRule', {
      eventBus: defaultBus,
      description: 'An alarm entered ALARM: end the bake watching it, so the revert starts now.',
      eventPattern: toCdkPattern(rulePatterns.alarmEnteredAlarm),
      targets: [new targets.LambdaFunction(fns.AlarmEvents, { deadLetterQueue: dlq, retryAttempts: 8 })],
    });
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconcile: lost CodeDeploy events, bakes whose time is up, expired approvals.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fns.Reconcile, { deadLetterQueue: dlq, retryAttempts: 2 })],
    });

    this.seedCatalog(table, catalog);
    this.acknowledgeFindings(dlq, probeFunctionArns.length > 0, catalog);
  }

  private environment: Record<string, string> = {};

  /**
   * A function of the pipeline: its own log group and role, bundled from `entry` (a path from the
   * project root) with the shared options. The tags name the function and its entry, so the local
   * twin finds the handler in the synthesized template, which keeps no source path when bundling
   * is skipped. Use it to add a function of your own; give its role what it calls.
   */
  addFunction(name: string, entry: string): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${name}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: logs only to this function's group.
    const role = new iam.Role(this, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const fn = new nodejs.NodejsFunction(this, name, {
      role,
      entry: root(entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(60),
      environment: this.environment,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: lambdaBundle.target,
        sourceMap: true,
        mainFields: lambdaBundle.mainFields,
        banner: lambdaBundle.banner,
        externalModules: lambdaBundle.external,
      },
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords, cloudwatch:DescribeAlarms and ecs:Describe/RegisterTaskDefinition have no resource-level permissions; iam:PassRole is conditioned on ecs-tasks.amazonaws.com.',
    });
    Tags.of(fn).add(functionTags.name, name);
    Tags.of(fn).add(functionTags.entry, entry);
    return fn;
  }

  private alarm(
    component: string,
    env: string,
    def: AlarmDefinition,
    target: ReturnType<typeof targetFor>,
  ): cloudwatch.Alarm {
    const period = Duration.seconds(def.periodSeconds);
    let metric: cloudwatch.IMetric;
    if (target.type === 'lambda') {
      const dimensionsMap = {
        FunctionName: target.functionName,
        Resource: `${target.functionName}:${target.alias}`,
      };
      const m = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap, statistic, period });
      metric =
        def.metric === 'errorRate'
          ? new cloudwatch.MathExpression({
              expression: '100 * errors / MAX([errors, invocations])',
              usingMetrics: { errors: m('Errors', 'Sum'), invocations: m('Invocations', 'Sum') },
              period,
              label: 'error rate %',
            })
          : def.metric === 'errors'
            ? m('Errors', 'Sum')
            : m('Duration', 'p99');
    } else if (target.type === 'ecs' && target.blueGreen) {
      // What users see through the production listener's load balancer (both target groups).
      const loadBalancer = loadBalancerDimension(target.blueGreen.prodListenerArn);
      const m = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/ApplicationELB',
          metricName,
          dimensionsMap: { LoadBalancer: loadBalancer },
          statistic,
          period,
        });
      metric =
        def.metric === 'errorRate'
          ? new cloudwatch.MathExpression({
              expression: '100 * errors / MAX([errors, requests])',
              usingMetrics: {
                errors: m('HTTPCode_Target_5XX_Count', 'Sum'),
                requests: m('RequestCount', 'Sum'),
              },
              period,
              label: 'error rate %',
            })
          : def.metric === 'errors'
            ? m('HTTPCode_Target_5XX_Count', 'Sum')
            : new cloudwatch.MathExpression({
                expression: '1000 * latency',
                usingMetrics: { latency: m('TargetResponseTime', 'p99') },
                period,
                label: 'p99 ms',
              });
    } else if (target.type === 'ecs') {
      // Without the load balancer (target.blueGreen) there is no request metric to watch; the
      // service's CPU stands in, and the alarm's description says so.
      metric = new cloudwatch.Metric({
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        dimensionsMap: { ClusterName: target.cluster, ServiceName: target.service },
        statistic: 'Average',
        period,
      });
    } else {
      metric = new cloudwatch.Metric({
        namespace: 'AWS/EC2',
        metricName: 'StatusCheckFailed',
        statistic: 'Sum',
        period,
      });
    }
    return new cloudwatch.Alarm(this, `Alarm-${component}-${env}-${def.id}`, {
      alarmName: alarmName(component, env, def.id),
      alarmDescription: `Upshift: ${def.metric} of ${component} in ${env} above ${def.threshold}${
        target.type === 'ecs' && !target.blueGreen
          ? ' (stand-in: service CPU; add target.blueGreen for load balancer metrics)'
          : ''
      }`,
      metric,
      threshold: def.threshold,
      evaluationPeriods: def.evaluationPeriods,
      datapointsToAlarm: def.datapointsToAlarm ?? def.evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Writes the catalog's components and repositories to the table on every deploy, and each
   * environment's policy once (version 1): after that, policies change through
   * `upshift policies put`, which keeps their history.
   */
  private seedCatalog(table: dynamodb.ITableV2, catalog: Catalog): void {
    const always: Record<string, unknown>[] = [];
    for (const [name, component] of Object.entries(catalog.components)) {
      always.push({ ...keys.catalogComponent(name), component, updatedBy: 'cdk' });
      for (const repository of component.sources.ecr?.repositories ?? []) {
        always.push({ ...keys.catalogRepository(repository), component: name });
      }
    }
    const once: Record<string, unknown>[] = [];
    for (const [environment, policy] of Object.entries(catalog.policies)) {
      const stored = { environment, version: 1, policy, updatedBy: 'cdk', updatedAt: 'deploy' };
      once.push({
        ...keys.policyVersion(environment, 1),
        ...stored,
        changes: [{ path: '(root)', after: policy }],
      });
      once.push({ ...keys.policy(environment), ...stored, gsi1pk: 'POLICIES', gsi1sk: environment });
    }
    const put = (item: Record<string, unknown>, i: number, onlyIfAbsent: boolean) => {
      const call: cr.AwsSdkCall = {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: {
          TableName: table.tableName,
          Item: marshall(item),
          ...(onlyIfAbsent ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${item.pk}/${item.sk}`),
        ...(onlyIfAbsent ? { ignoreErrorCodesMatching: 'ConditionalCheckFailed' } : {}),
      };
      new cr.AwsCustomResource(this, `Seed${i}`, {
        onCreate: call,
        onUpdate: call,
        installLatestAwsSdk: false,
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [table.tableArn] }),
        ]),
      });
    };
    for (const [i, item] of always.entries()) put(item, i, false);
    for (const [i, item] of once.entries()) put(item, always.length + i, true);
  }

  /**
   * A blue/green deployment group with the component's alarms and automatic rollback on failure,
   * alarm and stop. L1, because the function or service lives outside this app.
   */
  private deploymentGroup(
    component: string,
    environment: string,
    app: Construct,
    alarms: cloudwatch.Alarm[],
    alarmNames: string[],
    platform: Pick<codedeploy.CfnDeploymentGroupProps, 'serviceRoleArn' | 'deploymentConfigName'> &
      Partial<codedeploy.CfnDeploymentGroupProps>,
  ): void {
    const group = new codedeploy.CfnDeploymentGroup(this, `Group-${component}-${environment}`, {
      applicationName: codeDeployApplication(component),
      deploymentGroupName: codeDeployGroup(component, environment),
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      // Names as strings (not tokens): CodeDeploy takes alarm names, and they are fixed by the catalog.
      alarmConfiguration: { enabled: alarmNames.length > 0, alarms: alarmNames.map((name) => ({ name })) },
      autoRollbackConfiguration: {
        enabled: true,
        events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
      ...platform,
    });
    group.node.addDependency(app, ...alarms);
  }

  private roles: Partial<Record<'lambda' | 'ecs', iam.Role>> = {};

  /** The service role CodeDeploy assumes to shift traffic and read the alarms, per platform. */
  private codeDeployRole(platform: 'lambda' | 'ecs' = 'lambda'): iam.Role {
    const policy =
      platform === 'lambda' ? 'service-role/AWSCodeDeployRoleForLambdaLimited' : 'AWSCodeDeployRoleForECS';
    let role = this.roles[platform];
    if (!role) {
      role = new iam.Role(
        this,
        platform === 'lambda' ? 'CodeDeployServiceRole' : 'CodeDeployEcsServiceRole',
        {
          assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
          managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(policy)],
        },
      );
      this.roles[platform] = role;
    }
    return role;
  }

  /**
   * Each cdk-nag finding this construct accepts, one by one, with the reason. Anything not listed
   * here fails synth.
   */
  private acknowledgeFindings(dlq: sqs.Queue, probesLambda: boolean, catalog: Catalog): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    const stack = Stack.of(this);
    ack(
      dlq,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the EventBridge rule targets.',
    );
    ack(
      this.stateMachine.role as iam.IRole & Construct,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing and CloudWatch Logs delivery for Step Functions require "*" (no resource-level permissions).',
    );
    // The provider function CDK creates for AwsCustomResource (the catalog seeding).
    const provider = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER);
    if (provider) {
      ack(
        provider,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'The AwsCustomResource provider that CDK creates to seed the catalog only writes its own logs with it.',
      );
      ack(
        provider,
        'AwsSolutions-IAM5[Resource::*]',
        'Created by CDK for AwsCustomResource; its calls are limited by the policy each seed resource passes.',
      );
    }
    if (this.roles.lambda) {
      ack(
        this.roles.lambda,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
        'The AWS-managed minimum for CodeDeploy to shift Lambda alias traffic and read alarms.',
      );
    }
    if (this.roles.ecs) {
      ack(
        this.roles.ecs,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]',
        'The AWS-managed policy CodeDeploy needs for ECS blue/green: the service, its task sets, the load balancer and the alarms.',
      );
    }
    ack(
      this.functions.Deploy.role as iam.IRole & Construct,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codedeploy:<AWS::Region>:<AWS::AccountId>:deploymentconfig:CodeDeployDefault.*]',
      'Reads the predefined CodeDeployDefault configs, whose names the policy chooses per upgrade.',
    );
    if (probesLambda) {
      for (const [name, component] of Object.entries(catalog.components)) {
        if (component.target.type !== 'lambda') continue;
        ack(
          this.functions.Verify.role as iam.IRole & Construct,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${component.target.functionName}:*]`,
          `Probes invoke published versions of ${name} by qualifier; the versions do not exist when the stack is deployed.`,
        );
      }
    }
    for (const fn of Object.keys(steps) as StepName[]) {
      const logicalId = stack.getLogicalId(this.functions[fn].node.defaultChild as CfnElement);
      ack(
        this.stateMachine,
        `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        'Step Functions may invoke any version or alias of its own step functions (CDK grantInvoke).',
      );
    }
  }
}

/** `app/<name>/<id>` from a listener ARN `...:listener/app/<name>/<id>/<listener-id>`. */
function loadBalancerDimension(listenerArn: string): string {
  const m = /:listener\/(app\/[^/]+\/[^/]+)\//.exec(listenerArn);
  if (!m?.[1]) throw new Error(`cannot read the load balancer from listener ARN ${listenerArn}`);
  return m[1];
}

/** The construct id CDK gives the singleton provider of every AwsCustomResource in a stack. */
const AWS_CUSTOM_RESOURCE_PROVIDER = 'AWS679f53fac002430cb0da5b7982bd2287';

/** An ARN in this stack's partition, region and account, kept as tokens so it reads the same everywhere. */
function awsArn(service: string, resource: string): string {
  return `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
}

/** Marshals a plain object into DynamoDB attribute values, for the seeding custom resources. */
function marshall(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = attribute(v);
  }
  return out;
}

function attribute(v: unknown): Record<string, unknown> {
  if (v === null) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map(attribute) };
  return { M: marshall(v) };
}

/** Our patterns are plain EventBridge JSON; CDK's EventPattern type names the same keys. */
function toCdkPattern(pattern: Record<string, unknown>): events.EventPattern {
  const { source, 'detail-type': detailType, detail, ...rest } = pattern as Record<string, never>;
  return {
    ...(source ? { source } : {}),
    ...(detailType ? { detailType } : {}),
    ...(detail ? { detail } : {}),
    ...rest,
  } as events.EventPattern;
}
