import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { tableKeys } from '../../shared/aws/table-definition';
import { functionTags } from '../function-tags';
import { powertoolsLayer } from '../powertools-layer';

/** A path from the project root. */
export const projectPath = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** The Lambda behind each `${NameFunctionArn}` substitution of the ASL, and the table access it needs. */
export const steps = {
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
export type StepName = keyof typeof steps;

/** Functions outside the state machine: rule targets and the reconciler's schedule. */
export const helpers = {
  DeploymentEvents: { entry: 'functions/deployment-events/handler.ts', table: ['GetItem', 'UpdateItem'] },
  AlarmEvents: { entry: 'functions/alarm-events/handler.ts', table: ['GetItem', 'UpdateItem'] },
  Reconcile: { entry: 'functions/reconcile/handler.ts', table: ['GetItem', 'UpdateItem'] },
  // Closes what an execution that ended outside Record left open (record, claim, lock, waits).
  ExecutionEnded: {
    entry: 'functions/execution-ended/handler.ts',
    table: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  },
} as const;
export type HelperName = keyof typeof helpers;
export type FunctionName = StepName | HelperName;
export type PipelineFunctionMap = Record<FunctionName, lambda.Function>;

export interface PipelineFunctionsProps {
  table: dynamodb.ITableV2;
  bus: events.IEventBus;
  /** Seconds between polls of a deployment in flight and of the alarms during a bake. */
  pollSeconds?: number;
}

/**
 * The step and helper functions: one log group and one role each, the table actions each needs,
 * the index for those that list, and PutEvents on the bus for those that publish. The resources
 * go into `scope` (the pipeline) itself, not into a construct of their own, so that their logical
 * IDs are those the pipeline has always given them (decision 0022).
 */
export class PipelineFunctions {
  readonly byName: PipelineFunctionMap;
  private readonly environment: Record<string, string>;

  constructor(
    private readonly scope: Construct,
    props: PipelineFunctionsProps,
  ) {
    const { table, bus } = props;
    this.environment = {
      UPSHIFT_TABLE_NAME: table.tableName,
      UPSHIFT_EVENT_BUS_NAME: bus.eventBusName,
      UPSHIFT_POLL_SECONDS: String(props.pollSeconds ?? 30),
      UPSHIFT_LOG_LEVEL: 'info',
    };

    // The one index by name, so no wildcard is needed.
    const tableArns = [table.tableArn, `${table.tableArn}/index/${tableKeys.gsi1.name}`];
    const fns = {} as PipelineFunctionMap;
    for (const [name, step] of Object.entries({ ...steps, ...helpers }) as [
      FunctionName,
      { entry: string; table: readonly string[] },
    ][]) {
      const fn = this.addFunction(name, step.entry);
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
    this.byName = fns;
  }

  /**
   * A function of the pipeline: its own log group and role, bundled from `entry` (a path from the
   * project root) with the shared options. The tags name the function and its entry, so the local
   * twin finds the handler in the synthesized template, which keeps no source path when bundling
   * is skipped.
   */
  addFunction(name: string, entry: string): lambda.Function {
    const scope = this.scope;
    const logGroup = new logs.LogGroup(scope, `${name}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: logs only to this function's group.
    const role = new iam.Role(scope, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const fn = new lambda.Function(scope, name, {
      role,
      code: lambda.Code.fromAsset(projectPath('.'), {
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
      // Logger, Metrics and Tracer (with the X-Ray SDK) of the pinned version; the bundle leaves
      // them out (infra/lambda-bundle.ts, decision 0024).
      layers: [powertoolsLayer(scope)],
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
}

/**
 * Bundles one handler with `infra/lambda-bundle.ts` in a child process: its esbuild plugins need
 * esbuild's asynchronous API, and CDK's local bundling is synchronous.
 */
function bundleLocally(entry: string, outfile: string): boolean {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', projectPath('infra/lambda-bundle.ts'), projectPath(entry), outfile],
    { cwd: projectPath('.'), stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    throw new Error(
      `bundling ${entry} failed (exit ${result.status ?? result.signal}); esbuild's output is above`,
    );
  }
  return true;
}
