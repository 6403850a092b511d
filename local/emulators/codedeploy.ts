import { createHash } from 'node:crypto';
import {
  AlarmsLimitExceededException,
  ApplicationDoesNotExistException,
  ApplicationNameRequiredException,
  BatchLimitExceededException,
  CodeDeployServiceException,
  type CreateDeploymentInput,
  DeploymentAlreadyCompletedException,
  DeploymentConfigDoesNotExistException,
  DeploymentDoesNotExistException,
  DeploymentGroupDoesNotExistException,
  DeploymentGroupNameRequiredException,
  DeploymentIdRequiredException,
  type DeploymentInfo,
  DeploymentLimitExceededException,
  DescriptionTooLongException,
  InvalidAlarmConfigException,
  InvalidApplicationNameException,
  InvalidAutoRollbackConfigException,
  InvalidDeploymentConfigNameException,
  InvalidDeploymentIdException,
  InvalidDeploymentStatusException,
  InvalidNextTokenException,
  InvalidRevisionException,
  InvalidTimeRangeException,
  RevisionRequiredException,
} from '@aws-sdk/client-codedeploy';
import { type Platform, predefinedConfigs, type TrafficStep } from '../../shared/domain/deploy-configs';
import {
  type AlarmStateReader,
  type AuthorizationRequest,
  type Caller,
  type EcsTraffic,
  type EventSink,
  type LambdaTraffic,
  type ServiceEmulator,
  type ServiceException,
  serviceError,
  TWIN_REGION,
  type TwinClock,
  twinArn,
} from '../twin/contracts';

/*
 * An in-process CodeDeploy (Lambda and ECS blue/green with traffic shifting). It answers
 * CreateDeployment, GetDeployment, StopDeployment, ListDeployments and BatchGetDeployments with
 * the SDK's shapes and exception classes,
 * shifts traffic on the deployment config's real timing, polls the deployment's alarms every
 * minute of the shift, rolls back with a new deployment created by `codeDeployRollback`, and
 * publishes CodeDeploy's state-change events to the default bus.
 *
 * Sources (the facts each behaviour follows):
 * [API]   @aws-sdk/client-codedeploy command docs, generated from botocore's
 *         codedeploy/2014-10-06/service-2.json (each command's modeled errors).
 * [PERM]  CodeDeploy permissions reference,
 *         https://docs.aws.amazon.com/codedeploy/latest/userguide/auth-and-access-control-permissions-reference.html
 * [OVR]   CreateDeployment `overrideAlarmConfiguration` member doc (API reference / SDK docs):
 *         "If you specify an overrideAlarmConfiguration, you need the UpdateDeploymentGroup IAM
 *         permission when calling CreateDeployment."
 * [LIMIT] DeploymentLimitExceededException as AWS words it for a busy group: "The Deployment Group
 *         'x' already has an active Deployment 'd-id-x'" (github.com/CircleCI-Public/aws-ecs-orb/issues/181;
 *         aws/aws-sdk-java#757 confirms the active id is in the message, not a modeled field).
 * [LCUR]  A Lambda AppSpec whose CurrentVersion is not the alias' version is NOT refused: the
 *         deployment is created and fails with "The deployment failed because the AppSpec file that
 *         specifies the AWS Lambda deployment configuration is missing or has an invalid
 *         configuration. The Lambda function alias version does not match the current version in
 *         AppSpec file. (Error code: INVALID_LAMBDA_CONFIGURATION)"
 *         (github.com/aws/serverless-application-model/issues/291). TargetVersion equal to
 *         CurrentVersion fails the same way (github.com/terraform-aws-modules/terraform-aws-lambda/issues/82).
 * [APPS]  A malformed AppSpec also fails the deployment rather than the request ("The deployment
 *         failed because the AppSpec file that specifies the deployment configuration is missing or
 *         has an invalid configuration. ...", github.com/aws/aws-cli/issues/6267).
 * [REV]   A missing revision: RevisionRequiredException "RevisionLocation must be specified"
 *         (github.com/aws/aws-cli/issues/4256).
 * [ECSC]  ECS refuses a load balancer container that the task definition lacks with "The container
 *         <name> does not exist in the task definition." (ECS InvalidParameterException, seen in
 *         hashicorp/terraform#2888, boltops-tools/ufo#114); CodeDeploy surfaces the failed task-set
 *         update as a Failed deployment with ECS_UPDATE_ERROR.
 * [ALRM]  CodeDeploy user guide, monitoring-create-alarms: if an alarm is activated "the deployment
 *         stops, and the status is updated to Stopped"; with DEPLOYMENT_STOP_ON_ALARM the last good
 *         revision is redeployed. ignorePollAlarmFailure (AlarmConfiguration doc): "false: The
 *         deployment stops if alarm status information can't be retrieved from Amazon CloudWatch."
 * [RB]    deployments-rollback-and-redeploy: a rollback is a new deployment with a new id, creator
 *         codeDeployRollback, linked through rollbackInfo.
 * [STOP]  StopDeployment.autoRollbackEnabled is nullable; CDK's `stoppedDeployment` ("roll back a
 *         deployment that was manually stopped") maps to DEPLOYMENT_STOP_ON_REQUEST, which is what
 *         applies when the caller does not say.
 * [SAR]   Service Authorization Reference, AWS CodeDeploy: ListDeployments and BatchGetDeployments
 *         require the `deploymentgroup` resource type.
 * [LIST]  ListDeployments API reference: applicationName and deploymentGroupName go together (one
 *         without the other is refused); includeOnlyStatuses filters; createTimeRange bounds the
 *         create time; a page carries a nextToken. BatchGetDeployments takes at most 25 ids and
 *         leaves out the ids it does not know.
 */

export type ComputePlatform = 'Lambda' | 'ECS' | 'Server';

/** A deployment group as AWS::CodeDeploy::DeploymentGroup declares it (the members the twin uses). */
export interface DeploymentGroupSpec {
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName?: string;
  alarmConfiguration?: { enabled?: boolean; ignorePollAlarmFailure?: boolean; alarms?: { name: string }[] };
  autoRollbackConfiguration?: { enabled?: boolean; events?: string[] };
  ecsServices?: { clusterName: string; serviceName: string }[];
}

/** AWS::CodeDeploy::DeploymentConfig's TrafficRoutingConfig. Intervals are minutes. */
export interface TrafficRoutingConfigSpec {
  Type: 'TimeBasedCanary' | 'TimeBasedLinear' | 'AllAtOnce';
  TimeBasedCanary?: { CanaryPercentage: number; CanaryInterval: number };
  TimeBasedLinear?: { LinearPercentage: number; LinearInterval: number };
}

export interface CustomDeploymentConfigSpec {
  deploymentConfigName: string;
  computePlatform: ComputePlatform;
  trafficRoutingConfig: TrafficRoutingConfigSpec;
}

/** Identifies a deployment for `hookFailure`: the version it deploys (Lambda version or task definition ARN). */
export interface HookSubject {
  applicationName: string;
  deploymentGroupName: string;
  target: string;
}

export interface CodeDeployEmulatorOptions {
  clock: TwinClock;
  events: EventSink;
  lambda: LambdaTraffic;
  ecs: EcsTraffic;
  alarms: AlarmStateReader;
  applications: { name: string; computePlatform: ComputePlatform }[];
  groups: DeploymentGroupSpec[];
  customConfigs?: CustomDeploymentConfigSpec[];
  /** The error code (e.g. HOOK_EXECUTION_FAILURE) with which a version's BeforeAllowTraffic hook fails. */
  hookFailure?: (deployment: HookSubject) => string | undefined;
}

export type EmulatedStatus =
  | 'Created'
  | 'Queued'
  | 'InProgress'
  | 'Baking'
  | 'Ready'
  | 'Succeeded'
  | 'Failed'
  | 'Stopped';

/** What a deployment moves traffic between. */
export type DeploymentTarget =
  | { kind: 'lambda'; functionName: string; alias: string; current: string; target: string }
  | { kind: 'ecs'; cluster: string; service: string; current: string; target: string }
  | { kind: 'server' };

/** One deployment as the emulator keeps it: plain JSON, so it survives snapshot/restore. */
export interface EmulatedDeployment {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  computePlatform: ComputePlatform;
  description?: string;
  creator: 'user' | 'codeDeployRollback';
  status: EmulatedStatus;
  createTimeMs: number;
  completeTimeMs?: number;
  revision?: Record<string, unknown>;
  target: DeploymentTarget;
  steps: TrafficStep[];
  /** The next minute of the shift to run (alarm poll, then any step due at that minute). */
  nextMinute: number;
  trafficPercent: number;
  hookFailureCode?: string;
  alarms: { enabled: boolean; ignorePollAlarmFailure: boolean; names: string[] };
  autoRollback: { enabled: boolean; events: string[] };
  overrideAlarmConfiguration?: Record<string, unknown>;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: {
    rollbackDeploymentId?: string;
    rollbackTriggeringDeploymentId?: string;
    rollbackMessage?: string;
  };
}

export interface CodeDeployProgress {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  status: EmulatedStatus;
  trafficPercent: number;
  atMs: number;
  note: string;
}

export interface CodeDeployEmulatorSnapshot {
  counter: number;
  deployments: EmulatedDeployment[];
}

type AutoRollbackEvent = 'DEPLOYMENT_FAILURE' | 'DEPLOYMENT_STOP_ON_ALARM' | 'DEPLOYMENT_STOP_ON_REQUEST';
const autoRollbackEvents = new Set([
  'DEPLOYMENT_FAILURE',
  'DEPLOYMENT_STOP_ON_ALARM',
  'DEPLOYMENT_STOP_ON_REQUEST',
]);
const activeStatuses = new Set<EmulatedStatus>(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);
const allStatuses = new Set<string>([...activeStatuses, 'Succeeded', 'Failed', 'Stopped']);
/** ListDeployments' page size (AWS does not document one). */
const listPageSize = 100;
/** BatchGetDeployments' documented maximum of ids. */
const batchGetLimit = 25;
const platformOf: Record<ComputePlatform, Platform> = { Lambda: 'lambda', ECS: 'ecs', Server: 'ec2' };
const deploymentIdPattern = /^d-[A-Z0-9]{9}$/;
const minuteMs = 60_000;
/** A failing BeforeAllowTraffic hook reports after about this long; no traffic moves before. */
const hookFailureDelayMs = 30_000;
const appSpecInvalid =
  'The deployment failed because the AppSpec file that specifies the deployment configuration is missing or has an invalid configuration.';
const lambdaAppSpecInvalid =
  'The deployment failed because the AppSpec file that specifies the AWS Lambda deployment configuration is missing or has an invalid configuration.';

const groupArn = (app: string, group: string) => twinArn('codedeploy', `deploymentgroup:${app}/${group}`);
const applicationArn = (app: string) => twinArn('codedeploy', `application:${app}`);
const configArn = (config: string) => twinArn('codedeploy', `deploymentconfig:${config}`);

export class CodeDeployEmulator implements ServiceEmulator {
  readonly prefix = 'codedeploy' as const;
  /** Loses the state-change events on purpose (EventBridge delivery is best effort), to test the fallback poll. */
  dropEvents = false;

  private readonly applications = new Map<string, ComputePlatform>();
  private readonly groups = new Map<string, DeploymentGroupSpec>();
  private readonly customConfigs = new Map<string, CustomDeploymentConfigSpec>();
  private deployments = new Map<string, EmulatedDeployment>();
  /** Group key (`app/group`) → the id of its active deployment: one per group, found without a scan. */
  private active = new Map<string, string>();
  private counter = 0;
  private readonly listeners: ((p: CodeDeployProgress) => void)[] = [];

  constructor(private readonly deps: CodeDeployEmulatorOptions) {
    for (const a of deps.applications) this.applications.set(a.name, a.computePlatform);
    for (const g of deps.groups) this.groups.set(`${g.applicationName}/${g.deploymentGroupName}`, g);
    for (const c of deps.customConfigs ?? []) this.customConfigs.set(c.deploymentConfigName, c);
  }

  /*
   * IAM checks per command, as AWS makes them:
   * | command          | action                                  | resource                                   | source |
   * | CreateDeployment | codedeploy:CreateDeployment             | deploymentgroup:<app>/<group>              | [PERM] |
   * | CreateDeployment | codedeploy:GetDeploymentConfig          | deploymentconfig:<config> (the one used)   | [PERM] footnote 1 |
   * | CreateDeployment | codedeploy:RegisterApplicationRevision  | application:<app>                          | [PERM] footnote 1 |
   * | CreateDeployment | codedeploy:UpdateDeploymentGroup        | deploymentgroup:<app>/<group>, only with overrideAlarmConfiguration | [OVR] |
   * | GetDeployment    | codedeploy:GetDeployment                | deploymentgroup of the deployment          | [PERM] |
   * | StopDeployment   | codedeploy:StopDeployment               | deploymentgroup of the deployment          | [PERM] |
   * | ListDeployments  | codedeploy:ListDeployments              | deploymentgroup:<app>/<group> (all: *)     | [PERM], [SAR] |
   * | BatchGetDeployments | codedeploy:BatchGetDeployments       | deploymentgroup of each known deployment   | [PERM], [SAR] |
   * Footnote 1 of [PERM] reads "GetApplicationRevision or RegisterApplicationRevision": an
   * alternative the request list cannot express, so the twin checks RegisterApplicationRevision,
   * the one CreateDeployment exercises (it registers the revision it is given).
   * For an unknown or malformed deployment id no group is known: no check is made and handle()
   * answers with the service's own error.
   */
  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const name = operationName(command);
    if (name === 'CreateDeployment') {
      const app = stringOr(input.applicationName);
      const group = stringOr(input.deploymentGroupName);
      if (!app) return [];
      const spec = group ? this.groups.get(`${app}/${group}`) : undefined;
      const config =
        stringOr(input.deploymentConfigName) ?? spec?.deploymentConfigName ?? 'CodeDeployDefault.OneAtATime';
      const checks: AuthorizationRequest[] = [];
      if (group) checks.push({ action: 'codedeploy:CreateDeployment', resource: groupArn(app, group) });
      checks.push({ action: 'codedeploy:GetDeploymentConfig', resource: configArn(config) });
      checks.push({ action: 'codedeploy:RegisterApplicationRevision', resource: applicationArn(app) });
      if (
        group &&
        input.overrideAlarmConfiguration !== undefined &&
        input.overrideAlarmConfiguration !== null
      ) {
        checks.push({ action: 'codedeploy:UpdateDeploymentGroup', resource: groupArn(app, group) });
      }
      return checks;
    }
    if (name === 'ListDeployments') {
      const app = stringOr(input.applicationName);
      const group = stringOr(input.deploymentGroupName);
      // Without a group, the listing spans every group of the account.
      return [
        {
          action: 'codedeploy:ListDeployments',
          resource: app && group ? groupArn(app, group) : twinArn('codedeploy', 'deploymentgroup:*'),
        },
      ];
    }
    if (name === 'BatchGetDeployments') {
      const ids = Array.isArray(input.deploymentIds) ? input.deploymentIds : [];
      const groups = new Set(
        ids.flatMap((id) => {
          const d = typeof id === 'string' ? this.deployments.get(id) : undefined;
          return d ? [groupArn(d.applicationName, d.deploymentGroupName)] : [];
        }),
      );
      return [...groups].map((resource) => ({ action: 'codedeploy:BatchGetDeployments', resource }));
    }
    if (name === 'GetDeployment' || name === 'StopDeployment') {
      const d = this.deployments.get(stringOr(input.deploymentId) ?? '');
      if (!d) return [];
      return [{ action: `codedeploy:${name}`, resource: groupArn(d.applicationName, d.deploymentGroupName) }];
    }
    return [];
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    _caller: Caller,
  ): Promise<Record<string, unknown>> {
    switch (operationName(command)) {
      case 'CreateDeployment':
        return this.createDeployment(input as unknown as CreateDeploymentInput);
      case 'GetDeployment':
        return { deploymentInfo: this.describe(this.find(input.deploymentId)) };
      case 'StopDeployment':
        return this.stopDeployment(input);
      case 'ListDeployments':
        return this.listDeployments(input);
      case 'BatchGetDeployments':
        return this.batchGetDeployments(input);
      default:
        throw fail(
          CodeDeployServiceException,
          'UnknownOperationException',
          `The twin's CodeDeploy does not implement ${command}`,
        );
    }
  }

  onProgress(listener: (p: CodeDeployProgress) => void): void {
    this.listeners.push(listener);
  }

  list(): EmulatedDeployment[] {
    return [...this.deployments.values()];
  }

  snapshot(): CodeDeployEmulatorSnapshot {
    return structuredClone({ counter: this.counter, deployments: [...this.deployments.values()] });
  }

  /** Restores a snapshot and resumes the shifts that were in progress on the clock. */
  restore(data: CodeDeployEmulatorSnapshot): void {
    this.counter = data.counter;
    this.deployments = new Map(structuredClone(data.deployments).map((d) => [d.deploymentId, d]));
    this.active = new Map();
    for (const d of this.deployments.values()) {
      if (!activeStatuses.has(d.status)) continue;
      this.active.set(groupKey(d), d.deploymentId);
      this.schedule(d);
    }
  }

  // --- CreateDeployment -------------------------------------------------------------------------

  /**
   * Primary course: 1. validate the request as the API does (refusals), 2. resolve the config and
   * the alarm and rollback settings, 3. claim the group, 4. validate the AppSpec against Lambda or
   * ECS (a mismatch fails the deployment, it is not refused), 5. start the shift on the clock.
   */
  private createDeployment(input: CreateDeploymentInput): Record<string, unknown> {
    const app = stringOr(input.applicationName);
    if (!app)
      throw fail(
        ApplicationNameRequiredException,
        'ApplicationNameRequiredException',
        'Application name is required',
      );
    if (app.length > 100)
      throw fail(
        InvalidApplicationNameException,
        'InvalidApplicationNameException',
        `Application name is invalid: ${app}`,
      );
    const platform = this.applications.get(app);
    if (!platform)
      throw fail(
        ApplicationDoesNotExistException,
        'ApplicationDoesNotExistException',
        `No application found for name: ${app}`,
      );
    const groupName = stringOr(input.deploymentGroupName);
    if (!groupName)
      throw fail(
        DeploymentGroupNameRequiredException,
        'DeploymentGroupNameRequiredException',
        'Deployment group name is required',
      );
    const group = this.groups.get(`${app}/${groupName}`);
    if (!group)
      throw fail(
        DeploymentGroupDoesNotExistException,
        'DeploymentGroupDoesNotExistException',
        `No Deployment Group found for name: ${groupName}`,
      );
    const configName =
      stringOr(input.deploymentConfigName) ?? group.deploymentConfigName ?? 'CodeDeployDefault.OneAtATime';
    const steps = this.resolveConfig(configName, platform);
    if (input.description !== undefined && String(input.description).length > 512) {
      throw fail(
        DescriptionTooLongException,
        'DescriptionTooLongException',
        'The description is too long; the maximum is 512 characters',
      );
    }
    if (platform === 'Server') serverRevision(input.revision);
    const content = platform === 'Server' ? undefined : revisionContent(input.revision, platform);
    const alarms = effectiveAlarms(input.overrideAlarmConfiguration ?? group.alarmConfiguration);
    const autoRollback = effectiveAutoRollback(
      input.autoRollbackConfiguration ?? group.autoRollbackConfiguration,
    );

    const key = `${app}/${groupName}`;
    const busy = this.active.get(key);
    if (busy) {
      throw fail(
        DeploymentLimitExceededException,
        'DeploymentLimitExceededException',
        `The Deployment Group '${groupName}' already has an active Deployment '${busy}'`,
      );
    }

    const now = this.deps.clock.now().getTime();
    const d: EmulatedDeployment = {
      deploymentId: this.nextId(),
      applicationName: app,
      deploymentGroupName: groupName,
      deploymentConfigName: configName,
      computePlatform: platform,
      ...(input.description !== undefined ? { description: String(input.description) } : {}),
      creator: 'user',
      status: 'InProgress',
      createTimeMs: now,
      ...(input.revision ? { revision: structuredClone(input.revision) as Record<string, unknown> } : {}),
      target: { kind: 'server' },
      steps,
      nextMinute: 0,
      trafficPercent: 0,
      alarms,
      autoRollback,
      ...(input.overrideAlarmConfiguration
        ? {
            overrideAlarmConfiguration: structuredClone(input.overrideAlarmConfiguration) as Record<
              string,
              unknown
            >,
          }
        : {}),
    };
    this.deployments.set(d.deploymentId, d);
    this.emit(d, 'START');

    const resolved =
      content === undefined ? { target: d.target } : this.resolveTarget(content, platform, group);
    if ('error' in resolved) {
      this.end(d, 'Failed', resolved.error, false);
      return { deploymentId: d.deploymentId };
    }
    d.target = resolved.target;
    if (d.target.kind !== 'server') {
      const hook = this.deps.hookFailure?.({
        applicationName: app,
        deploymentGroupName: groupName,
        target: d.target.target,
      });
      if (hook) d.hookFailureCode = hook;
    }
    this.active.set(key, d.deploymentId);
    this.progress(d, `started ${describeTarget(d.target)} with ${configName}`);
    this.schedule(d);
    return { deploymentId: d.deploymentId };
  }

  /** The traffic steps of a predefined or custom config, refusing one of another compute platform. */
  private resolveConfig(name: string, platform: ComputePlatform): TrafficStep[] {
    const custom = this.customConfigs.get(name);
    const predefined = predefinedConfigs[platformOf[platform]][name];
    if (custom && custom.computePlatform === platform) return stepsOf(custom.trafficRoutingConfig);
    if (predefined) return predefined;
    const elsewhere =
      custom !== undefined || Object.values(predefinedConfigs).some((configs) => name in configs);
    if (elsewhere) {
      // The model's InvalidDeploymentConfigNameException is the platform-mismatch refusal; the
      // exact AWS wording was not found, so the message states the fact.
      throw fail(
        InvalidDeploymentConfigNameException,
        'InvalidDeploymentConfigNameException',
        `Deployment config ${name} is not compatible with compute platform ${platform}`,
      );
    }
    throw fail(
      DeploymentConfigDoesNotExistException,
      'DeploymentConfigDoesNotExistException',
      `No deployment configuration found for name: ${name}`,
    );
  }

  /** Validates the AppSpec's resource against Lambda or ECS. A problem fails the deployment ([LCUR], [APPS], [ECSC]). */
  private resolveTarget(
    content: string,
    platform: ComputePlatform,
    group: DeploymentGroupSpec,
  ): { target: DeploymentTarget } | { error: { code: string; message: string } } {
    const parsed = parseAppSpec(content);
    if (typeof parsed === 'string') {
      return {
        error: {
          code: platform === 'Lambda' ? 'INVALID_LAMBDA_CONFIGURATION' : 'INVALID_REVISION',
          message: `${platform === 'Lambda' ? lambdaAppSpecInvalid : appSpecInvalid} ${parsed}`,
        },
      };
    }
    return platform === 'Lambda' ? this.lambdaTarget(parsed) : this.ecsTarget(parsed, group);
  }

  private lambdaTarget(
    resource: AppSpecResource,
  ): { target: DeploymentTarget } | { error: { code: string; message: string } } {
    const invalid = (why: string) => ({
      error: { code: 'INVALID_LAMBDA_CONFIGURATION', message: `${lambdaAppSpecInvalid} ${why}` },
    });
    if (resource.type !== 'AWS::Lambda::Function')
      return invalid(`The resource type ${String(resource.type)} is not AWS::Lambda::Function.`);
    const p = resource.properties;
    const name = stringField(p, 'name');
    const alias = stringField(p, 'alias');
    const current = stringField(p, 'currentversion');
    const target = stringField(p, 'targetversion');
    if (!name || !alias || !current || !target) {
      return invalid('Name, Alias, CurrentVersion and TargetVersion are required strings.');
    }
    // [CD-UG reference-appspec-file-structure-resources]: both "must be a valid positive integer".
    if (!isPositiveInteger(current) || !isPositiveInteger(target)) {
      return invalid('CurrentVersion and TargetVersion must be valid positive integers.');
    }
    const aliasVersion = this.deps.lambda.aliasVersion(name, alias);
    if (aliasVersion === undefined) {
      return {
        error: {
          code: 'INVALID_LAMBDA_FUNCTION',
          message: `The Lambda function ${name} or its alias ${alias} does not exist.`,
        },
      };
    }
    if (aliasVersion !== current)
      return invalid('The Lambda function alias version does not match the current version in AppSpec file.');
    if (current === target) return invalid('The target version is the same as the current version.');
    if (!this.deps.lambda.hasVersion(name, target)) {
      return {
        error: {
          code: 'INVALID_LAMBDA_FUNCTION',
          message: `The target version ${target} of Lambda function ${name} does not exist.`,
        },
      };
    }
    return { target: { kind: 'lambda', functionName: name, alias, current, target } };
  }

  private ecsTarget(
    resource: AppSpecResource,
    group: DeploymentGroupSpec,
  ): { target: DeploymentTarget } | { error: { code: string; message: string } } {
    const invalid = (why: string) => ({
      error: { code: 'INVALID_REVISION', message: `${appSpecInvalid} ${why}` },
    });
    if (resource.type !== 'AWS::ECS::Service')
      return invalid(`The resource type ${String(resource.type)} is not AWS::ECS::Service.`);
    const taskDefinition = stringField(resource.properties, 'taskdefinition');
    const lb = field(resource.properties, 'loadbalancerinfo');
    const containerName = isRecord(lb) ? stringField(lb, 'containername') : undefined;
    const containerPort = isRecord(lb) ? field(lb, 'containerport') : undefined;
    if (!taskDefinition) return invalid('TaskDefinition is required.');
    if (!containerName) return invalid('LoadBalancerInfo.ContainerName is required.');
    if (typeof containerPort !== 'number') return invalid('LoadBalancerInfo.ContainerPort must be a number.');
    const service = group.ecsServices?.[0];
    const current = service
      ? this.deps.ecs.serviceTaskDefinition(service.clusterName, service.serviceName)
      : undefined;
    if (!service || current === undefined) {
      return {
        error: {
          code: 'INVALID_ECS_SERVICE',
          message: `The ECS service of deployment group ${group.deploymentGroupName} does not exist.`,
        },
      };
    }
    const containers = this.deps.ecs.containersOf(taskDefinition);
    if (!containers) {
      return {
        error: {
          code: 'ECS_UPDATE_ERROR',
          message: `The ECS service cannot be updated: the task definition ${taskDefinition} is not registered.`,
        },
      };
    }
    if (!containers.includes(containerName)) {
      return {
        error: {
          code: 'ECS_UPDATE_ERROR',
          message: `The ECS service cannot be updated: The container ${containerName} does not exist in the task definition.`,
        },
      };
    }
    return {
      target: {
        kind: 'ecs',
        cluster: service.clusterName,
        service: service.serviceName,
        current,
        target: taskDefinition,
      },
    };
  }

  // --- The shift on the clock -------------------------------------------------------------------

  /** Puts the deployment's next event on the clock; each minute schedules the next one. */
  private schedule(d: EmulatedDeployment): void {
    const clock = this.deps.clock;
    const now = clock.now().getTime();
    if (d.hookFailureCode) {
      const code = d.hookFailureCode;
      clock.at(Math.max(now, d.createTimeMs + hookFailureDelayMs), () => {
        if (d.status !== 'InProgress') return;
        const target = d.target.kind === 'server' ? '' : d.target.target;
        this.end(
          d,
          'Failed',
          {
            code,
            message: `The deployment failed because a lifecycle hook (BeforeAllowTraffic) of ${target} reported ${code}.`,
          },
          d.autoRollback.enabled && d.autoRollback.events.includes('DEPLOYMENT_FAILURE'),
        );
      });
      return;
    }
    const minute = d.nextMinute;
    clock.at(Math.max(now, d.createTimeMs + minute * minuteMs), () => this.tick(d, minute));
  }

  /** One minute of the shift: poll the alarms (from minute 1), then take the steps due now. */
  private tick(d: EmulatedDeployment, minute: number): void {
    if (d.status !== 'InProgress' || d.nextMinute !== minute) return;
    if (minute > 0 && this.alarmsStopped(d)) return;
    for (const step of d.steps) if (step.atMinute === minute) this.shift(d, step.percent);
    const last = d.steps[d.steps.length - 1]?.atMinute ?? 0;
    if (minute >= last) {
      this.succeed(d);
      return;
    }
    d.nextMinute = minute + 1;
    this.schedule(d);
  }

  private shift(d: EmulatedDeployment, percent: number): void {
    d.trafficPercent = percent;
    const t = d.target;
    if (t.kind === 'lambda') {
      if (percent >= 100) this.deps.lambda.routeAlias(t.functionName, t.alias, t.target);
      else
        this.deps.lambda.routeAlias(t.functionName, t.alias, t.current, {
          version: t.target,
          weight: percent / 100,
        });
    } else if (t.kind === 'ecs') {
      if (percent >= 100) this.deps.ecs.routeService(t.cluster, t.service, t.target);
      else
        this.deps.ecs.routeService(t.cluster, t.service, t.current, {
          taskDefinitionArn: t.target,
          weight: percent / 100,
        });
    }
    this.progress(
      d,
      `traffic ${percent}% on ${d.target.kind === 'server' ? 'the revision' : d.target.target}`,
    );
  }

  /** Returns true when the deployment's alarms stopped it ([ALRM]). */
  private alarmsStopped(d: EmulatedDeployment): boolean {
    const { enabled, names, ignorePollAlarmFailure } = d.alarms;
    if (!enabled || names.length === 0) return false;
    const states = this.deps.alarms.alarmStates(names);
    const firing = states.filter((s) => s.state === 'ALARM').map((s) => s.name);
    const rollback = d.autoRollback.enabled && d.autoRollback.events.includes('DEPLOYMENT_STOP_ON_ALARM');
    if (firing.length > 0) {
      this.end(
        d,
        'Stopped',
        {
          code: 'ALARM_ACTIVE',
          message: `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${firing.join(', ')}>`,
        },
        rollback,
      );
      return true;
    }
    if (states.length < names.length && !ignorePollAlarmFailure) {
      const known = new Set(states.map((s) => s.name));
      const missing = names.filter((n) => !known.has(n));
      // No ErrorCode names a failed alarm poll; INTERNAL_ERROR is the twin's choice.
      this.end(
        d,
        'Stopped',
        {
          code: 'INTERNAL_ERROR',
          message: `The deployment was stopped because the state of alarms could not be retrieved from Amazon CloudWatch: <${missing.join(', ')}>`,
        },
        rollback,
      );
      return true;
    }
    return false;
  }

  private succeed(d: EmulatedDeployment): void {
    d.status = 'Succeeded';
    d.completeTimeMs = this.deps.clock.now().getTime();
    this.release(d);
    this.progress(d, 'succeeded');
    this.emit(d, 'SUCCESS');
  }

  /** Ends a deployment as Failed or Stopped and, when asked, rolls it back with a new deployment ([RB]). */
  private end(
    d: EmulatedDeployment,
    status: 'Failed' | 'Stopped',
    error: { code: string; message: string },
    rollback: boolean,
  ): void {
    d.status = status;
    d.errorInformation = error;
    d.completeTimeMs = this.deps.clock.now().getTime();
    this.release(d);
    this.progress(d, `${status.toLowerCase()}: ${error.code}`);
    this.emit(d, status === 'Failed' ? 'FAILURE' : 'STOP');
    if (rollback && d.target.kind !== 'server') this.rollBack(d);
  }

  /**
   * The rollback deployment redeploys the version that served before, all at once: it restores
   * the alias or service to the old version and succeeds on the same instant.
   */
  private rollBack(d: EmulatedDeployment): void {
    const t = d.target;
    if (t.kind === 'server') return;
    const now = this.deps.clock.now().getTime();
    const reverse = { ...t, current: t.target, target: t.current };
    const rb: EmulatedDeployment = {
      deploymentId: this.nextId(),
      applicationName: d.applicationName,
      deploymentGroupName: d.deploymentGroupName,
      deploymentConfigName: d.deploymentConfigName,
      computePlatform: d.computePlatform,
      creator: 'codeDeployRollback',
      status: 'InProgress',
      createTimeMs: now,
      revision: rollbackRevision(reverse),
      target: reverse,
      steps: [{ atMinute: 0, percent: 100 }],
      nextMinute: 0,
      trafficPercent: 0,
      alarms: { enabled: false, ignorePollAlarmFailure: false, names: [] },
      autoRollback: { enabled: false, events: [] },
      rollbackInfo: { rollbackTriggeringDeploymentId: d.deploymentId },
    };
    this.deployments.set(rb.deploymentId, rb);
    d.rollbackInfo = {
      rollbackDeploymentId: rb.deploymentId,
      rollbackMessage: `Deployment ${d.deploymentId} was rolled back by deployment ${rb.deploymentId}`,
    };
    d.trafficPercent = 0;
    this.emit(rb, 'START');
    this.shift(rb, 100);
    this.succeed(rb);
  }

  private release(d: EmulatedDeployment): void {
    const key = groupKey(d);
    if (this.active.get(key) === d.deploymentId) this.active.delete(key);
  }

  // --- GetDeployment / StopDeployment -----------------------------------------------------------

  private find(id: unknown): EmulatedDeployment {
    if (id === undefined || id === null || id === '') {
      throw fail(DeploymentIdRequiredException, 'DeploymentIdRequiredException', 'Deployment ID is required');
    }
    if (typeof id !== 'string' || !deploymentIdPattern.test(id)) {
      throw fail(
        InvalidDeploymentIdException,
        'InvalidDeploymentIdException',
        `Specified DeploymentId is not in the valid format: ${String(id)}`,
      );
    }
    const d = this.deployments.get(id);
    if (!d)
      throw fail(
        DeploymentDoesNotExistException,
        'DeploymentDoesNotExistException',
        `Deployment ${id} does not exist`,
      );
    return d;
  }

  // --- ListDeployments / BatchGetDeployments ----------------------------------------------------

  /**
   * The ids of a group's deployments (or of every group), newest first, filtered by status and
   * create time, a page of `listPageSize` at a time ([LIST]; AWS documents no order, the twin
   * lists newest first).
   */
  private listDeployments(input: Record<string, unknown>): Record<string, unknown> {
    const app = stringOr(input.applicationName);
    const groupName = stringOr(input.deploymentGroupName);
    if (app && !groupName) {
      throw fail(
        DeploymentGroupNameRequiredException,
        'DeploymentGroupNameRequiredException',
        'Deployment group name is required when an application name is given',
      );
    }
    if (groupName && !app) {
      throw fail(
        ApplicationNameRequiredException,
        'ApplicationNameRequiredException',
        'Application name is required when a deployment group name is given',
      );
    }
    if (app && groupName) {
      if (!this.applications.has(app))
        throw fail(
          ApplicationDoesNotExistException,
          'ApplicationDoesNotExistException',
          `No application found for name: ${app}`,
        );
      if (!this.groups.has(`${app}/${groupName}`))
        throw fail(
          DeploymentGroupDoesNotExistException,
          'DeploymentGroupDoesNotExistException',
          `No Deployment Group found for name: ${groupName}`,
        );
    }
    const statuses = input.includeOnlyStatuses;
    if (statuses !== undefined && !Array.isArray(statuses)) {
      throw fail(InvalidDeploymentStatusException, 'InvalidDeploymentStatusException', 'Invalid status list');
    }
    const wanted = new Set<string>((statuses as unknown[] | undefined)?.map(String) ?? []);
    for (const status of wanted) {
      if (!allStatuses.has(status)) {
        throw fail(
          InvalidDeploymentStatusException,
          'InvalidDeploymentStatusException',
          `Invalid deployment status: ${status}`,
        );
      }
    }
    const range = isRecord(input.createTimeRange) ? input.createTimeRange : {};
    const start = timeOf(range.start);
    const end = timeOf(range.end);
    if (
      Number.isNaN(start) ||
      Number.isNaN(end) ||
      (start !== undefined && end !== undefined && start > end)
    ) {
      throw fail(InvalidTimeRangeException, 'InvalidTimeRangeException', 'The time range is invalid');
    }
    const ids = [...this.deployments.values()]
      .filter(
        (d) =>
          (!app || (d.applicationName === app && d.deploymentGroupName === groupName)) &&
          (wanted.size === 0 || wanted.has(d.status)) &&
          (start === undefined || d.createTimeMs >= start) &&
          (end === undefined || d.createTimeMs <= end),
      )
      .reverse()
      .map((d) => d.deploymentId);
    const token = input.nextToken;
    let from = 0;
    if (token !== undefined && token !== null) {
      from = typeof token === 'string' && /^page-[0-9]+$/.test(token) ? Number(token.slice(5)) : Number.NaN;
      if (!Number.isInteger(from) || from > ids.length) {
        throw fail(InvalidNextTokenException, 'InvalidNextTokenException', 'The next token is invalid');
      }
    }
    const page = ids.slice(from, from + listPageSize);
    const next = from + listPageSize < ids.length ? `page-${from + listPageSize}` : undefined;
    return { deployments: page, ...(next ? { nextToken: next } : {}) };
  }

  /** Up to 25 deployments by id, as GetDeployment describes them; unknown ids are left out ([LIST]). */
  private batchGetDeployments(input: Record<string, unknown>): Record<string, unknown> {
    const ids = input.deploymentIds;
    if (!Array.isArray(ids) || ids.length === 0) {
      throw fail(
        DeploymentIdRequiredException,
        'DeploymentIdRequiredException',
        'At least one deployment ID must be specified',
      );
    }
    if (ids.length > batchGetLimit) {
      throw fail(
        BatchLimitExceededException,
        'BatchLimitExceededException',
        `The maximum number of deployment IDs (${batchGetLimit}) was exceeded`,
      );
    }
    for (const id of ids) {
      if (typeof id !== 'string' || !deploymentIdPattern.test(id)) {
        throw fail(
          InvalidDeploymentIdException,
          'InvalidDeploymentIdException',
          `Specified DeploymentId is not in the valid format: ${String(id)}`,
        );
      }
    }
    const infos = (ids as string[]).flatMap((id) => {
      const d = this.deployments.get(id);
      return d ? [this.describe(d)] : [];
    });
    return { deploymentsInfo: infos };
  }

  private stopDeployment(input: Record<string, unknown>): Record<string, unknown> {
    const d = this.find(input.deploymentId);
    if (!activeStatuses.has(d.status)) {
      throw fail(
        DeploymentAlreadyCompletedException,
        'DeploymentAlreadyCompletedException',
        `Deployment ${d.deploymentId} has already completed with status ${d.status}`,
      );
    }
    const explicit = input.autoRollbackEnabled;
    const rollback =
      typeof explicit === 'boolean'
        ? explicit
        : d.autoRollback.enabled && d.autoRollback.events.includes('DEPLOYMENT_STOP_ON_REQUEST');
    this.end(
      d,
      'Stopped',
      { code: 'MANUAL_STOP', message: 'The deployment was stopped by a user' },
      rollback,
    );
    return {
      status: 'Succeeded',
      statusMessage: `Deployment ${d.deploymentId} was stopped${d.rollbackInfo?.rollbackDeploymentId ? ` and rolled back by ${d.rollbackInfo.rollbackDeploymentId}` : ''}`,
    };
  }

  private describe(d: EmulatedDeployment): DeploymentInfo {
    const done = d.status === 'Succeeded' ? 1 : 0;
    const failed = d.status === 'Failed' || d.status === 'Stopped' ? 1 : 0;
    return {
      applicationName: d.applicationName,
      deploymentGroupName: d.deploymentGroupName,
      deploymentConfigName: d.deploymentConfigName,
      deploymentId: d.deploymentId,
      ...(d.revision ? { revision: structuredClone(d.revision) } : {}),
      status: d.status,
      ...(d.errorInformation
        ? { errorInformation: { ...d.errorInformation } as DeploymentInfo['errorInformation'] }
        : {}),
      createTime: new Date(d.createTimeMs),
      startTime: new Date(d.createTimeMs),
      ...(d.completeTimeMs !== undefined ? { completeTime: new Date(d.completeTimeMs) } : {}),
      deploymentOverview: {
        Pending: 0,
        InProgress: activeStatuses.has(d.status) ? 1 : 0,
        Succeeded: done,
        Failed: failed,
        Skipped: 0,
        Ready: 0,
      },
      ...(d.description !== undefined ? { description: d.description } : {}),
      creator: d.creator,
      autoRollbackConfiguration: {
        enabled: d.autoRollback.enabled,
        events: d.autoRollback.events as AutoRollbackEvent[],
      },
      ...(d.rollbackInfo ? { rollbackInfo: { ...d.rollbackInfo } } : {}),
      computePlatform: d.computePlatform,
      deploymentStyle:
        d.computePlatform === 'Server'
          ? { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' }
          : { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ...(d.overrideAlarmConfiguration
        ? { overrideAlarmConfiguration: structuredClone(d.overrideAlarmConfiguration) }
        : {}),
    };
  }

  // --- Events, progress, ids --------------------------------------------------------------------

  private emit(d: EmulatedDeployment, state: 'START' | 'SUCCESS' | 'FAILURE' | 'STOP'): void {
    if (this.dropEvents) return;
    this.deps.events.putFromService('default', {
      source: 'aws.codedeploy',
      detailType: 'CodeDeploy Deployment State-change Notification',
      resources: [applicationArn(d.applicationName), groupArn(d.applicationName, d.deploymentGroupName)],
      detail: {
        region: TWIN_REGION,
        application: d.applicationName,
        deploymentGroup: d.deploymentGroupName,
        deploymentId: d.deploymentId,
        state,
        instanceGroupId: instanceGroupId(groupKey(d)),
      },
    });
  }

  private progress(d: EmulatedDeployment, note: string): void {
    const p: CodeDeployProgress = {
      deploymentId: d.deploymentId,
      applicationName: d.applicationName,
      deploymentGroupName: d.deploymentGroupName,
      status: d.status,
      trafficPercent: d.trafficPercent,
      atMs: this.deps.clock.now().getTime(),
      note,
    };
    for (const listener of this.listeners) listener(p);
  }

  /** `d-` and nine uppercase letters or digits, derived from a counter so a run is reproducible. */
  private nextId(): string {
    for (;;) {
      this.counter++;
      const digest = createHash('sha256').update(`deployment#${this.counter}`).digest();
      const id = `d-${BigInt(`0x${digest.subarray(0, 8).toString('hex')}`)
        .toString(36)
        .toUpperCase()
        .padStart(9, '0')
        .slice(-9)}`;
      if (!this.deployments.has(id)) return id;
    }
  }
}

// --- Helpers ------------------------------------------------------------------------------------

/**
 * serviceError() with an SDK client's modeled exception class. The contract's parameter type
 * cannot name these classes (their `$metadata` is the SDK's ResponseMetadata interface, not a
 * Record, and their `message` is required), so the class is passed through `unknown` once here.
 */
function fail(
  Exception: abstract new (...args: never[]) => Error,
  name: string,
  message: string,
): ServiceException {
  return serviceError(Exception as unknown as Parameters<typeof serviceError>[0], name, message);
}

/** The transport may name a command `CreateDeployment` or by its class, `CreateDeploymentCommand`. */
function operationName(command: string): string {
  return command.endsWith('Command') ? command.slice(0, -'Command'.length) : command;
}

function groupKey(d: { applicationName: string; deploymentGroupName: string }): string {
  return `${d.applicationName}/${d.deploymentGroupName}`;
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A TimeRange bound: undefined when absent, NaN when not a time. */
function timeOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: string): boolean {
  return /^[1-9][0-9]*$/.test(value);
}

/** AppSpec keys match case-insensitively, as AWS's own ECS deploy action matches them. */
function field(obj: Record<string, unknown>, lowerName: string): unknown {
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lowerName) return v;
  return undefined;
}

function stringField(obj: Record<string, unknown>, lowerName: string): string | undefined {
  return stringOr(field(obj, lowerName));
}

interface AppSpecResource {
  type: unknown;
  properties: Record<string, unknown>;
}

/** The first resource of a JSON AppSpec, or why there is none. */
function parseAppSpec(content: string): AppSpecResource | string {
  let root: unknown;
  try {
    root = JSON.parse(content);
  } catch {
    // AWS also takes YAML; the twin reads JSON only (the adapters send JSON).
    return 'The input AppSpec file is not well-formed JSON.';
  }
  if (!isRecord(root)) return 'The AppSpec file must be an object.';
  const resources = field(root, 'resources');
  const first = Array.isArray(resources) ? resources[0] : undefined;
  if (!isRecord(first)) return 'The AppSpec file must list one resource in Resources.';
  const entry = Object.values(first)[0];
  if (!isRecord(entry)) return 'The AppSpec resource must be an object with Type and Properties.';
  const properties = field(entry, 'properties');
  if (!isRecord(properties)) return 'The AppSpec resource has no Properties.';
  return { type: field(entry, 'type'), properties };
}

/** The AppSpec text of a Lambda or ECS revision, refusing what the API refuses. */
/**
 * An EC2/on-premises deployment's revision, checked as CodeDeploy checks it before it accepts the
 * deployment: an S3 location with bucket, key and an archive bundle type (zip, tar, tgz; YAML and
 * JSON are AppSpec files of Lambda and ECS), or a GitHub repository and commit. The twin does not
 * fetch the bundle: that it exists is not checked (AWS: the deployment fails on the instances).
 */
function serverRevision(revision: CreateDeploymentInput['revision']): void {
  if (!revision)
    throw fail(RevisionRequiredException, 'RevisionRequiredException', 'RevisionLocation must be specified');
  const type = revision.revisionType;
  if (type === 'S3') {
    const s3 = revision.s3Location;
    if (!s3?.bucket || !s3.key) {
      throw fail(
        InvalidRevisionException,
        'InvalidRevisionException',
        'The revision was specified in an invalid format: an S3 revision needs its bucket and key',
      );
    }
    if (s3.bundleType !== undefined && !['zip', 'tar', 'tgz'].includes(String(s3.bundleType))) {
      throw fail(
        InvalidRevisionException,
        'InvalidRevisionException',
        `The revision was specified in an invalid format: bundle type ${String(s3.bundleType)} is not an EC2/on-premises archive (zip, tar or tgz)`,
      );
    }
    return;
  }
  if (type === 'GitHub') {
    if (!revision.gitHubLocation?.repository || !revision.gitHubLocation.commitId) {
      throw fail(
        InvalidRevisionException,
        'InvalidRevisionException',
        'The revision was specified in an invalid format: a GitHub revision needs its repository and commit id',
      );
    }
    return;
  }
  throw fail(
    InvalidRevisionException,
    'InvalidRevisionException',
    `The revision was specified in an invalid format: ${String(type)} is not a revision of the Server compute platform (S3 or GitHub)`,
  );
}

function revisionContent(revision: CreateDeploymentInput['revision'], platform: ComputePlatform): string {
  if (!revision)
    throw fail(RevisionRequiredException, 'RevisionRequiredException', 'RevisionLocation must be specified');
  const type = revision.revisionType;
  if (type === 'AppSpecContent') {
    const content = revision.appSpecContent?.content;
    if (typeof content !== 'string' || content === '') {
      throw fail(InvalidRevisionException, 'InvalidRevisionException', 'AppSpecContent must have content');
    }
    const sha256 = revision.appSpecContent?.sha256;
    if (sha256 !== undefined && sha256 !== createHash('sha256').update(content).digest('hex')) {
      throw fail(
        InvalidRevisionException,
        'InvalidRevisionException',
        'The sha256 of the AppSpec content does not match its content',
      );
    }
    return content;
  }
  if (type === 'String' && platform === 'Lambda') {
    const content = revision.string?.content;
    if (typeof content !== 'string' || content === '') {
      throw fail(InvalidRevisionException, 'InvalidRevisionException', 'RawString must have content');
    }
    const sha256 = revision.string?.sha256;
    if (sha256 !== undefined && sha256 !== createHash('sha256').update(content).digest('hex')) {
      throw fail(
        InvalidRevisionException,
        'InvalidRevisionException',
        'The sha256 of the AppSpec string does not match its content',
      );
    }
    return content;
  }
  throw fail(
    InvalidRevisionException,
    'InvalidRevisionException',
    `Revision type ${String(type)} is not supported for a ${platform} deployment by the twin (it takes AppSpecContent${platform === 'Lambda' ? ' or String' : ''})`,
  );
}

function effectiveAlarms(
  config: CreateDeploymentInput['overrideAlarmConfiguration'] | DeploymentGroupSpec['alarmConfiguration'],
): EmulatedDeployment['alarms'] {
  const names = (config?.alarms ?? []).map((a) => a?.name ?? '');
  const enabled = config?.enabled === true;
  if (enabled) {
    if (
      names.length === 0 ||
      names.some((n) => n === '' || n.length > 255) ||
      new Set(names).size !== names.length
    ) {
      throw fail(
        InvalidAlarmConfigException,
        'InvalidAlarmConfigException',
        'The alarm configuration is enabled but its alarm list is empty, has an empty or duplicate name, or a name over 255 characters',
      );
    }
  }
  if (names.length > 10) {
    throw fail(
      AlarmsLimitExceededException,
      'AlarmsLimitExceededException',
      'The maximum number of alarms for a deployment group (10) was exceeded',
    );
  }
  return { enabled, ignorePollAlarmFailure: config?.ignorePollAlarmFailure === true, names };
}

function effectiveAutoRollback(
  config: { enabled?: boolean; events?: string[] } | undefined,
): EmulatedDeployment['autoRollback'] {
  const enabled = config?.enabled === true;
  const events = [...(config?.events ?? [])];
  if (enabled && (events.length === 0 || events.some((e) => !autoRollbackEvents.has(e)))) {
    throw fail(
      InvalidAutoRollbackConfigException,
      'InvalidAutoRollbackConfigException',
      'Automatic rollback is enabled but no valid triggering event type is listed',
    );
  }
  return { enabled, events };
}

/** Steps of a custom TrafficRoutingConfig, in the same form as the predefined ones. */
function stepsOf(config: TrafficRoutingConfigSpec): TrafficStep[] {
  if (config.Type === 'TimeBasedCanary' && config.TimeBasedCanary) {
    const { CanaryPercentage, CanaryInterval } = config.TimeBasedCanary;
    return [
      { atMinute: 0, percent: CanaryPercentage },
      { atMinute: CanaryInterval, percent: 100 },
    ];
  }
  if (config.Type === 'TimeBasedLinear' && config.TimeBasedLinear) {
    const { LinearPercentage, LinearInterval } = config.TimeBasedLinear;
    const steps: TrafficStep[] = [];
    for (let i = 0; ; i++) {
      const percent = Math.min(100, (i + 1) * LinearPercentage);
      steps.push({ atMinute: i * LinearInterval, percent });
      if (percent >= 100 || LinearPercentage <= 0) break;
    }
    return steps;
  }
  return [{ atMinute: 0, percent: 100 }];
}

function describeTarget(t: DeploymentTarget): string {
  if (t.kind === 'lambda') return `${t.functionName}:${t.alias} ${t.current} → ${t.target}`;
  if (t.kind === 'ecs') return `${t.cluster}/${t.service} ${t.current} → ${t.target}`;
  return 'the revision';
}

/** The revision a rollback deploys: the AppSpec with the versions reversed. */
function rollbackRevision(t: Exclude<DeploymentTarget, { kind: 'server' }>): Record<string, unknown> {
  const resource =
    t.kind === 'lambda'
      ? {
          [t.functionName]: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Name: t.functionName,
              Alias: t.alias,
              CurrentVersion: t.current,
              TargetVersion: t.target,
            },
          },
        }
      : { TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: t.target } } };
  const content = JSON.stringify({ version: 0.0, Resources: [resource] });
  return {
    revisionType: 'AppSpecContent',
    appSpecContent: { content, sha256: createHash('sha256').update(content).digest('hex') },
  };
}

/** A stable UUID-shaped id per deployment group, as the event's instanceGroupId is. */
function instanceGroupId(key: string): string {
  const h = createHash('sha256').update(`instance-group#${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
