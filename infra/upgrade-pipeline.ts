import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import {
  AssetHashType,
  Aws,
  DockerImage,
  Duration,
  RemovalPolicy,
  Stack,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { tableKeys } from '../shared/aws/table-definition';
import { alarmName, type Catalog, type Component, targetFor } from '../shared/domain/catalog';
import { codeDeployApplication, codeDeployGroup } from '../shared/domain/names';
import { rulePatterns } from '../shared/domain/patterns';
import { awsArn, exactOrPattern, iamRoleArn, stackScopedName } from './arns';
import { CatalogSeed } from './catalog-seed';
import {
  ComponentStack,
  componentBucket,
  componentResourceCount,
  componentStackId,
  MAX_RESOURCES_PER_COMPONENT_STACK,
} from './component-stacks';
import { functionTags } from './function-tags';
import { ProbeInvokePolicies } from './probe-policies';

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export { lambdaBundle } from './lambda-bundle';

/** The Lambda behind each `${NameFunctionArn}` substitution of the ASL, and the table access it needs. */
const steps = {
  // Intake's rollback path appends history and closes bake watches (UpdateItem).
  // Intake reads the policy and the registry in one BatchGetItem (decision 0018).
  Intake: {
    entry: 'functions/intake/handler.ts',
    table: ['GetItem', 'BatchGetItem', 'PutItem', 'DeleteItem', 'UpdateItem'],
  },
  // Lock reads the queue of waiters for a component and environment (a Query on the table).
  Lock: {
    entry: 'functions/lock/handler.ts',
    table: ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Query'],
  },
  Verify: { entry: 'functions/verify/handler.ts', table: ['GetItem', 'UpdateItem'] },
  // Decide reads the policy, the registry and the lock in one BatchGetItem (decision 0018).
  Decide: { entry: 'functions/decide/handler.ts', table: ['GetItem', 'BatchGetItem', 'UpdateItem'] },
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
  // StartBake writes the watch and its alarm links in one BatchWriteItem (decision 0018).
  StartBake: {
    entry: 'functions/start-bake/handler.ts',
    table: ['GetItem', 'PutItem', 'BatchWriteItem', 'UpdateItem'],
  },
  FinalBakeCheck: { entry: 'functions/bake/handler.ts', table: ['GetItem', 'UpdateItem'] },
  Record: { entry: 'functions/record/handler.ts', table: ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem'] },
} as const;
type StepName = keyof typeof steps;

/** Functions outside the state machine: rule targets and the reconciler's schedule. */
const helpers = {
  DeploymentEvents: { entry: 'functions/deployment-events/handler.ts', table: ['GetItem', 'UpdateItem'] },
  AlarmEvents: { entry: 'functions/alarm-events/handler.ts', table: ['GetItem', 'UpdateItem'] },
  Reconcile: { entry: 'functions/reconcile/handler.ts', table: ['GetItem', 'UpdateItem'] },
  // Closes what an execution that ended outside Record left open (record, claim, lock, waits).
  ExecutionEnded: {
    entry: 'functions/execution-ended/handler.ts',
    table: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  },
} as const;
type HelperName = keyof typeof helpers;
type FunctionName = StepName | HelperName;

export interface UpgradePipelineProps {
  table: dynamodb.ITableV2;
  bus: events.IEventBus;
  catalog: Catalog;
  /** Seconds between polls of a deployment in flight and of the alarms during a bake. */
  pollSeconds?: number;
  /**
   * Managed policies a role may hold in the target account: 10 by default, up to 20 after a
   * quota increase. Verify's invoke grants spill into managed policies past about 130 target
   * functions. Defaults to the context `upshift:managedPoliciesPerRole`, else 10.
   */
  managedPoliciesPerRole?: number;
}

/**
 * Upshift's stateless half: the step functions, the state machine built from the same ASL the
 * local runtime runs, the rules, the CodeDeploy applications and deployment groups, the alarms,
 * and the catalog seeded into the table. Add it to your own app, or deploy UpshiftStatelessStack.
 */
export class UpgradePipeline extends Construct {
  /** Raw verification samples, referenced from the workflow records. */
  readonly evidenceBucket: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<FunctionName, lambda.Function>;
  /** The nested stacks of the components' applications, groups and alarms, by bucket. */
  readonly componentStacks: ComponentStack[];
  /** The catalog seeding: its shared role and nested stacks. */
  readonly seed: CatalogSeed;
  private readonly groupGrant: { arns: string[]; pattern?: string };
  private readonly applicationGrant: { arns: string[]; pattern?: string };
  private readonly groupGrantees = new Set<iam.IRole & Construct>();
  private readonly alarmGrant: { arns: string[]; pattern?: string } | undefined;
  private readonly alarmGrantees = new Set<iam.IRole & Construct>();

  constructor(scope: Construct, id: string, props: UpgradePipelineProps) {
    super(scope, id);
    const { table, bus, catalog } = props;
    const environment = {
      UPSHIFT_TABLE_NAME: table.tableName,
      UPSHIFT_EVENT_BUS_NAME: bus.eventBusName,
      UPSHIFT_POLL_SECONDS: String(props.pollSeconds ?? 30),
      UPSHIFT_LOG_LEVEL: 'info',
    };

    this.environment = environment;
    const makeFunction = (name: string, entry: string) => this.addFunction(name, entry);

    // The one index by name, so no wildcard is needed.
    const tableArns = [table.tableArn, `${table.tableArn}/index/${tableKeys.gsi1.name}`];
    const fns = {} as Record<FunctionName, lambda.Function>;
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
    for (const fn of [fns.Intake, fns.Reconcile, fns.ExecutionEnded]) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: tableArns }));
    }
    for (const fn of [fns.Intake, fns.Decide, fns.RequestApproval, fns.Record, fns.ExecutionEnded]) {
      bus.grantPutEventsTo(fn);
    }

    // Applications, deployment groups and alarms per component, in nested stacks by bucket.
    this.componentStacks = this.addComponentStacks(catalog);
    const groups: string[] = [];
    const applications: string[] = [];
    const probedFunctions: string[] = [];
    const alarms: string[] = [];
    for (const [componentName, component] of Object.entries(catalog.components)) {
      applications.push(`application:${codeDeployApplication(componentName)}`);
      for (const envName of Object.keys(component.environments)) {
        const target = targetFor(component, envName);
        for (const def of component.alarms) alarms.push(`alarm:${alarmName(componentName, envName, def.id)}`);
        // Also the groups a user creates for targets this construct cannot provision one for.
        groups.push(
          `deploymentgroup:${codeDeployApplication(componentName)}/${codeDeployGroup(componentName, envName)}`,
        );
        if (target.type === 'lambda') probedFunctions.push(`function:${target.functionName}:*`);
      }
    }
    // Exact ARNs while the lists are short; past that, the names this construct gives them.
    this.groupGrant = exactOrPattern(
      this,
      'codedeploy',
      groups,
      `deploymentgroup:${codeDeployApplication('*')}/*`,
    );
    this.applicationGrant = exactOrPattern(
      this,
      'codedeploy',
      applications,
      `application:${codeDeployApplication('*')}`,
    );
    // DescribeAlarms with AlarmNames is authorized on each named alarm (CloudWatch's Service
    // Authorization Reference: resource type alarm). Catalog alarm names carry no common prefix,
    // so past the budget the grant is every alarm of this account and region, never "*".
    this.alarmGrant = alarms.length > 0 ? exactOrPattern(this, 'cloudwatch', alarms, 'alarm:*') : undefined;
    const groupArns = this.groupGrant.arns;
    // Every role granted on the groups, so that a pattern is acknowledged on exactly those roles.
    const grantGroups = (fn: lambda.Function, actions: string[]) => {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: groupArns }));
      if (fn.role) this.groupGrantees.add(fn.role as iam.IRole & Construct);
    };
    const applicationArns = this.applicationGrant.arns;
    const configArns = [awsArn('codedeploy', 'deploymentconfig:CodeDeployDefault.*')];
    grantGroups(fns.Deploy, ['codedeploy:CreateDeployment']);
    // A revert overrides the group's alarm configuration, which CodeDeploy authorizes only with
    // UpdateDeploymentGroup on the group (CreateDeployment API reference, overrideAlarmConfiguration).
    grantGroups(fns.Deploy, ['codedeploy:UpdateDeploymentGroup']);
    // A retried Deploy finds the deployment its first attempt created (decision 0014): both are
    // authorized on the deployment group (CodeDeploy permissions reference).
    grantGroups(fns.Deploy, ['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments']);
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
      fns.ExecutionEnded,
    ]) {
      // GetDeployment and StopDeployment are authorized on the deployment group.
      grantGroups(fn, ['codedeploy:GetDeployment', 'codedeploy:StopDeployment']);
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
      if (!this.alarmGrant) continue;
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: this.alarmGrant.arns }),
      );
      if (this.alarmGrant.pattern && fn.role) this.alarmGrantees.add(fn.role as iam.IRole & Construct);
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
    const probePolicies = new ProbeInvokePolicies(this, fns.Verify.role as iam.Role, probedFunctions, {
      managedPoliciesPerRole:
        props.managedPoliciesPerRole ?? numberContext(this, 'upshift:managedPoliciesPerRole'),
    });

    // Raw verification samples (docs/verification.md): the workflow record keeps a compact table
    // and the object's reference. SSE-KMS under the account's aws/s3 key, kept 90 days.
    this.evidenceBucket = new s3.Bucket(this, 'VerificationEvidence', {
      encryption: s3.BucketEncryption.KMS_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ prefix: 'verification/', expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    fns.Verify.addEnvironment('UPSHIFT_EVIDENCE_BUCKET', this.evidenceBucket.bucketName);
    fns.Verify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.evidenceBucket.arnForObjects('verification/*')],
      }),
    );
    Validations.of(fns.Verify.role as iam.IRole & Construct).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.evidenceBucket.node.defaultChild as CfnElement)}.Arn>/verification/*]`,
      reason: 'Verify writes one object per workflow under verification/; the keys are not known in advance.',
    });
    Validations.of(this.evidenceBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the Verify function writes here (its role allows PutObject under verification/ and nothing else); object-level access is auditable with CloudTrail data events, without a second bucket for access logs.',
    });

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
      definitionSubstitutions: {
        ...Object.fromEntries(
          (Object.keys(steps) as StepName[]).map((name) => [`${name}FunctionArn`, fns[name].functionArn]),
        ),
        // For the ASL's service integrations (`arn:${Partition}:states:::lambda:invoke...`), so the
        // definition deploys to aws-cn and aws-us-gov unchanged.
        ...(/\$\{Partition\}/.test(definition) ? { Partition: Aws.PARTITION } : {}),
      },
      tracingEnabled: true,
      // Transitions without their data: three waits carry $$.Task.Token in their input, and a
      // token in a log would let anyone who reads the log answer the wait.
      logs: { destination: smLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
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
    new events.Rule(this, 'ExecutionEndedRule', {
      eventBus: defaultBus,
      description:
        'An upgrade execution failed outside its Catch, timed out or was aborted: close what it left open.',
      eventPattern: toCdkPattern({
        ...rulePatterns.executionEndedAbnormally,
        detail: {
          ...rulePatterns.executionEndedAbnormally.detail,
          stateMachineArn: [this.stateMachine.stateMachineArn],
        },
      }),
      targets: [new targets.LambdaFunction(fns.ExecutionEnded, { deadLetterQueue: dlq, retryAttempts: 8 })],
    });
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconcile: lost CodeDeploy events, bakes whose time is up, expired approvals.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fns.Reconcile, { deadLetterQueue: dlq, retryAttempts: 2 })],
    });

    this.seed = new CatalogSeed(this, stackScopedName(this, 'catalog-seed'), { table, catalog });
    this.acknowledgeFindings(dlq, probePolicies);
  }

  private environment: Record<string, string> = {};

  /**
   * A function of the pipeline: its own log group and role, bundled from `entry` (a path from the
   * project root) with the shared options. The tags name the function and its entry, so the local
   * twin finds the handler in the synthesized template, which keeps no source path when bundling
   * is skipped. Use it to add a function of your own; give its role what it calls.
   */
  addFunction(name: string, entry: string): lambda.Function {
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
    const fn = new lambda.Function(this, name, {
      role,
      code: lambda.Code.fromAsset(root('.'), {
        // The asset is the bundle, hashed as built; the project folder is never copied.
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: local bundling either succeeds or fails synth with esbuild's message.
          // The command names the entry, which also keys CDK's bundling cache per function.
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
          command: ['node', '--import', 'tsx', 'infra/lambda-bundle.ts', entry, '/asset-output/index.mjs'],
          local: { tryBundle: (outputDir) => bundleLocally(entry, join(outputDir, 'index.mjs')) },
        },
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(60),
      environment: this.environment,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords and ecs:Describe/RegisterTaskDefinition have no resource-level permissions; iam:PassRole is conditioned on ecs-tasks.amazonaws.com.',
    });
    Tags.of(fn).add(functionTags.name, name);
    Tags.of(fn).add(functionTags.entry, entry);
    return fn;
  }

  private roles: Partial<Record<'lambda' | 'ecs', iam.Role>> = {};

  /**
   * The service role CodeDeploy assumes to shift traffic and read the alarms, per platform. Named,
   * so that the nested stacks' deployment groups give its ARN from the name, without a parameter.
   */
  private codeDeployRole(platform: 'lambda' | 'ecs'): iam.Role {
    const policy =
      platform === 'lambda' ? 'service-role/AWSCodeDeployRoleForLambdaLimited' : 'AWSCodeDeployRoleForECS';
    let role = this.roles[platform];
    if (!role) {
      role = new iam.Role(
        this,
        platform === 'lambda' ? 'CodeDeployServiceRole' : 'CodeDeployEcsServiceRole',
        {
          roleName: stackScopedName(this, `codedeploy-${platform}`),
          assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
          managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(policy)],
        },
      );
      this.roles[platform] = role;
    }
    return role;
  }

  /**
   * One nested stack per non-empty bucket of components (componentBucket), each after the
   * service roles its groups name.
   */
  private addComponentStacks(catalog: Catalog): ComponentStack[] {
    const buckets = new Map<number, [string, Component][]>();
    for (const entry of Object.entries(catalog.components)) {
      const bucket = componentBucket(entry[0]);
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), entry]);
    }
    const stacks: ComponentStack[] = [];
    for (const bucket of [...buckets.keys()].sort((x, y) => x - y)) {
      const components = buckets.get(bucket) ?? [];
      const id = componentStackId(bucket);
      const resources = components.reduce((sum, [, c]) => sum + componentResourceCount(c), 0);
      if (resources > MAX_RESOURCES_PER_COMPONENT_STACK) {
        throw new Error(
          `Nested stack ${id} would hold ${resources} resources (${components.map(([n]) => n).join(', ')}), more than the ${MAX_RESOURCES_PER_COMPONENT_STACK} it is allowed (CloudFormation takes 500). Components with many environments and alarms need more buckets: raise COMPONENT_STACKS in infra/component-stacks.ts (this moves components between stacks; see docs/decisions/0006-construct-scale.md).`,
        );
      }
      const usedPlatforms = new Set<'lambda' | 'ecs'>();
      const stack = new ComponentStack(this, id, {
        components,
        serviceRoleArn: (platform) => {
          usedPlatforms.add(platform);
          this.codeDeployRole(platform);
          return iamRoleArn(stackScopedName(this, `codedeploy-${platform}`));
        },
      });
      for (const platform of usedPlatforms) stack.node.addDependency(this.codeDeployRole(platform));
      stacks.push(stack);
    }
    return stacks;
  }

  /**
   * Each cdk-nag finding this construct accepts, one by one, with the reason. Anything not listed
   * here fails synth.
   */
  private acknowledgeFindings(dlq: sqs.Queue, probes: ProbeInvokePolicies): void {
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
    ack(
      this.seed.role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The AwsCustomResource providers that seed the catalog only write their own logs with it.',
    );
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
    const codedeployArn = (resource: string) =>
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codedeploy:<AWS::Region>:<AWS::AccountId>:${resource}]`;
    ack(
      this.functions.Deploy.role as iam.IRole & Construct,
      codedeployArn('deploymentconfig:CodeDeployDefault.*'),
      'Reads the predefined CodeDeployDefault configs, whose names the policy chooses per upgrade.',
    );
    if (this.groupGrant.pattern) {
      for (const role of this.groupGrantees) {
        ack(
          role,
          codedeployArn(this.groupGrant.pattern),
          'The catalog has too many deployment groups to list within IAM policy size quotas; every group this construct creates is named upshift-<component>/<component>-<environment>, so the pattern covers exactly the Upshift applications of this account and region (docs/decisions/0006-construct-scale.md).',
        );
      }
    }
    if (this.alarmGrant?.pattern) {
      for (const role of this.alarmGrantees) {
        ack(
          role,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:${this.alarmGrant.pattern}]`,
          'The catalog has too many alarms to list within IAM policy size quotas; DescribeAlarms only reads alarm states, and the grant stays within this account and region (docs/decisions/0006-construct-scale.md).',
        );
      }
    }
    if (this.applicationGrant.pattern) {
      ack(
        this.functions.Deploy.role as iam.IRole & Construct,
        codedeployArn(this.applicationGrant.pattern),
        'The catalog has too many CodeDeploy applications to list within IAM policy size quotas; every application this construct creates is named upshift-<component> (docs/decisions/0006-construct-scale.md).',
      );
    }
    for (const { scope, functions } of probes.holders) {
      for (const resource of functions) {
        ack(
          scope,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:${resource}]`,
          `Probes invoke published versions of ${resource.split(':')[1]} by qualifier; the versions do not exist when the stack is deployed.`,
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

/**
 * Bundles one handler with `infra/lambda-bundle.ts` in a child process: its esbuild plugins need
 * esbuild's asynchronous API, and CDK's local bundling is synchronous.
 */
function bundleLocally(entry: string, outfile: string): boolean {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', root('infra/lambda-bundle.ts'), root(entry), outfile],
    { cwd: root('.'), stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    throw new Error(
      `bundling ${entry} failed (exit ${result.status ?? result.signal}); esbuild's output is above`,
    );
  }
  return true;
}

function numberContext(scope: Construct, key: string): number | undefined {
  const value = scope.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`context ${key} must be a positive integer, not ${value}`);
  return n;
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
