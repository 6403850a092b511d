import { createHash } from 'node:crypto';
import {
  ApplicationDoesNotExistException,
  BatchLimitExceededException,
  CodeDeployClient,
  DeploymentAlreadyCompletedException,
  DeploymentConfigDoesNotExistException,
  DeploymentDoesNotExistException,
  DeploymentGroupDoesNotExistException,
  DeploymentGroupNameRequiredException,
  DeploymentIdRequiredException,
  DeploymentLimitExceededException,
  InvalidDeploymentConfigNameException,
  InvalidDeploymentIdException,
  InvalidDeploymentStatusException,
  InvalidNextTokenException,
  InvalidRevisionException,
  RevisionRequiredException,
} from '@aws-sdk/client-codedeploy';
import { describe, expect, it } from 'vitest';
import {
  CodeDeployEmulator,
  type CodeDeployEmulatorOptions,
  type DeploymentGroupSpec,
} from '../../local/emulators/codedeploy';
import type {
  AlarmStateReader,
  BusEntry,
  Caller,
  EcsTraffic,
  EventSink,
  LambdaTraffic,
  TwinClock,
} from '../../local/twin/contracts';
import { CodeDeployDeployer } from '../../shared/aws/codedeploy-deployer';
import type { DeploymentRequest } from '../../shared/ports';

const MINUTE = 60_000;
const caller: Caller = { roleArn: 'arn:aws:iam::000000000000:role/Deploy', name: 'Deploy' };

/** A clock that only moves when the test advances it; callbacks run in time order, then in order added. */
class ManualClock implements TwinClock {
  private nowMs = 0;
  private seq = 0;
  private queue: { atMs: number; seq: number; fn: () => void | Promise<void> }[] = [];
  now(): Date {
    return new Date(this.nowMs);
  }
  at(atMs: number, fn: () => void | Promise<void>): void {
    this.queue.push({ atMs, seq: this.seq++, fn });
  }
  async advanceTo(ms: number): Promise<void> {
    for (;;) {
      this.queue.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.atMs > ms) break;
      this.queue.shift();
      this.nowMs = Math.max(this.nowMs, next.atMs);
      await next.fn();
    }
    this.nowMs = ms;
  }
}

class FakeLambda implements LambdaTraffic {
  readonly routes: { primary: string; additional?: { version: string; weight: number } }[] = [];
  private readonly aliases = new Map<
    string,
    { primary: string; additional?: { version: string; weight: number } }
  >();
  constructor(
    private readonly versions: Set<string>,
    aliases: Record<string, string>,
  ) {
    for (const [key, version] of Object.entries(aliases)) this.aliases.set(key, { primary: version });
  }
  aliasVersion(functionName: string, alias: string): string | undefined {
    return this.aliases.get(`${functionName}:${alias}`)?.primary;
  }
  hasVersion(functionName: string, version: string): boolean {
    return this.versions.has(`${functionName}:${version}`);
  }
  routeAlias(
    functionName: string,
    alias: string,
    primary: string,
    additional?: { version: string; weight: number },
  ) {
    const route = additional ? { primary, additional } : { primary };
    this.aliases.set(`${functionName}:${alias}`, route);
    this.routes.push(route);
  }
  routing(functionName: string, alias: string) {
    return this.aliases.get(`${functionName}:${alias}`);
  }
}

class FakeEcs implements EcsTraffic {
  readonly routes: { primary: string; replacement?: { taskDefinitionArn: string; weight: number } }[] = [];
  constructor(
    private readonly services: Record<string, string>,
    private readonly taskDefinitions: Record<string, string[]>,
  ) {}
  serviceTaskDefinition(cluster: string, service: string): string | undefined {
    return this.services[`${cluster}/${service}`];
  }
  containersOf(taskDefinitionArn: string): string[] | undefined {
    return this.taskDefinitions[taskDefinitionArn];
  }
  routeService(
    cluster: string,
    service: string,
    primary: string,
    replacement?: { taskDefinitionArn: string; weight: number },
  ): void {
    if (!replacement) this.services[`${cluster}/${service}`] = primary;
    this.routes.push(replacement ? { primary, replacement } : { primary });
  }
}

class FakeAlarms implements AlarmStateReader {
  readonly states = new Map<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>();
  polls = 0;
  alarmStates(names: readonly string[]) {
    this.polls++;
    return names.flatMap((name) => {
      const state = this.states.get(name);
      return state ? [{ name, state }] : [];
    });
  }
}

class FakeBus implements EventSink {
  readonly entries: { busName: string; entry: BusEntry }[] = [];
  putFromService(busName: string, entry: BusEntry): void {
    this.entries.push({ busName, entry });
  }
  states(): string[] {
    return this.entries.map((e) => String(e.entry.detail.state));
  }
}

const lambdaGroup: DeploymentGroupSpec = {
  applicationName: 'upshift-checkout',
  deploymentGroupName: 'checkout-prod',
  deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
  alarmConfiguration: { enabled: true, alarms: [{ name: 'checkout-errors' }] },
  autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
};

const ecsGroup: DeploymentGroupSpec = {
  applicationName: 'upshift-web',
  deploymentGroupName: 'web-prod',
  deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
  ecsServices: [{ clusterName: 'main', serviceName: 'web' }],
};

const taskDef = (rev: number) => `arn:aws:ecs:us-east-1:000000000000:task-definition/web:${rev}`;

function setup(overrides: Partial<CodeDeployEmulatorOptions> = {}) {
  const clock = new ManualClock();
  const lambda = new FakeLambda(new Set(['checkout:1', 'checkout:2', 'checkout:3']), {
    'checkout:live': '1',
  });
  const ecs = new FakeEcs({ 'main/web': taskDef(1) }, { [taskDef(1)]: ['app'], [taskDef(2)]: ['app'] });
  const alarms = new FakeAlarms();
  alarms.states.set('checkout-errors', 'OK');
  const bus = new FakeBus();
  const emulator = new CodeDeployEmulator({
    clock,
    events: bus,
    lambda,
    ecs,
    alarms,
    applications: [
      { name: 'upshift-checkout', computePlatform: 'Lambda' },
      { name: 'upshift-web', computePlatform: 'ECS' },
    ],
    groups: [lambdaGroup, ecsGroup],
    ...overrides,
  });
  return { clock, lambda, ecs, alarms, bus, emulator };
}

function appSpecRevision(appSpec: unknown) {
  const content = JSON.stringify(appSpec);
  return {
    revisionType: 'AppSpecContent',
    appSpecContent: { content, sha256: createHash('sha256').update(content).digest('hex') },
  };
}

function lambdaInput(current: string, target: string, extra: Record<string, unknown> = {}) {
  return {
    applicationName: 'upshift-checkout',
    deploymentGroupName: 'checkout-prod',
    description: `checkout ${target}`,
    revision: appSpecRevision({
      version: 0.0,
      Resources: [
        {
          checkout: {
            Type: 'AWS::Lambda::Function',
            Properties: { Name: 'checkout', Alias: 'live', CurrentVersion: current, TargetVersion: target },
          },
        },
      ],
    }),
    ...extra,
  };
}

function ecsInput(taskDefinitionArn: string, containerName: string) {
  return {
    applicationName: 'upshift-web',
    deploymentGroupName: 'web-prod',
    revision: appSpecRevision({
      version: 0.0,
      Resources: [
        {
          TargetService: {
            Type: 'AWS::ECS::Service',
            Properties: {
              TaskDefinition: taskDefinitionArn,
              LoadBalancerInfo: { ContainerName: containerName, ContainerPort: 8080 },
            },
          },
        },
      ],
    }),
  };
}

async function create(emulator: CodeDeployEmulator, input: Record<string, unknown>): Promise<string> {
  const out = await emulator.handle('CreateDeployment', input, caller);
  return String(out.deploymentId);
}

async function info(emulator: CodeDeployEmulator, deploymentId: string) {
  const out = await emulator.handle('GetDeployment', { deploymentId }, caller);
  return out.deploymentInfo as Record<string, unknown> & {
    status: string;
    creator: string;
    errorInformation?: { code: string; message: string };
    rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string };
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('CodeDeployEmulator CreateDeployment validation', () => {
  it('fails a Lambda deployment at once when CurrentVersion is not the alias version, as AWS does', async () => {
    // Prepare
    const { emulator, lambda, bus } = setup();

    // Act
    const id = await create(emulator, lambdaInput('3', '2'));
    const deployment = await info(emulator, id);

    // Assess
    expect(deployment.status).toBe('Failed');
    expect(deployment.errorInformation?.code).toBe('INVALID_LAMBDA_CONFIGURATION');
    expect(deployment.errorInformation?.message).toContain(
      'The Lambda function alias version does not match the current version in AppSpec file.',
    );
    expect(lambda.routes).toEqual([]);
    expect(bus.states()).toEqual(['START', 'FAILURE']);
    // The group is free again: a corrected request is accepted.
    expect(await create(emulator, lambdaInput('1', '2'))).toMatch(/^d-[A-Z0-9]{9}$/);
  });

  it('fails with INVALID_LAMBDA_FUNCTION when the target version is not published', async () => {
    // Prepare
    const { emulator } = setup();

    // Act
    const deployment = await info(emulator, await create(emulator, lambdaInput('1', '9')));

    // Assess
    expect(deployment.status).toBe('Failed');
    expect(deployment.errorInformation?.code).toBe('INVALID_LAMBDA_FUNCTION');
  });

  it('refuses a second deployment to a busy group with DeploymentLimitExceededException naming the active one', async () => {
    // Prepare
    const { emulator } = setup();
    const first = await create(emulator, lambdaInput('1', '2'));

    // Act
    const error = await rejection(emulator.handle('CreateDeployment', lambdaInput('1', '3'), caller));

    // Assess
    expect(error).toBeInstanceOf(DeploymentLimitExceededException);
    expect(error.name).toBe('DeploymentLimitExceededException');
    expect(error.message).toBe(
      `The Deployment Group 'checkout-prod' already has an active Deployment '${first}'`,
    );
  });

  it('answers unknown applications, groups and configs with the SDK exception classes', async () => {
    // Prepare
    const { emulator } = setup();

    // Act
    const noApp = await rejection(
      emulator.handle('CreateDeployment', lambdaInput('1', '2', { applicationName: 'nope' }), caller),
    );
    const noGroup = await rejection(
      emulator.handle('CreateDeployment', lambdaInput('1', '2', { deploymentGroupName: 'nope' }), caller),
    );
    const noConfig = await rejection(
      emulator.handle(
        'CreateDeployment',
        lambdaInput('1', '2', { deploymentConfigName: 'CodeDeployDefault.Nope' }),
        caller,
      ),
    );
    const otherPlatform = await rejection(
      emulator.handle(
        'CreateDeployment',
        lambdaInput('1', '2', { deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' }),
        caller,
      ),
    );

    // Assess
    expect(noApp).toBeInstanceOf(ApplicationDoesNotExistException);
    expect(noApp.name).toBe('ApplicationDoesNotExistException');
    expect(noGroup).toBeInstanceOf(DeploymentGroupDoesNotExistException);
    expect(noGroup.name).toBe('DeploymentGroupDoesNotExistException');
    expect(noConfig).toBeInstanceOf(DeploymentConfigDoesNotExistException);
    expect(noConfig.name).toBe('DeploymentConfigDoesNotExistException');
    expect(otherPlatform).toBeInstanceOf(InvalidDeploymentConfigNameException);
    expect(otherPlatform.name).toBe('InvalidDeploymentConfigNameException');
  });

  it('refuses a missing revision and an AppSpec whose sha256 does not match', async () => {
    // Prepare
    const { emulator } = setup();
    const tampered = lambdaInput('1', '2');
    tampered.revision.appSpecContent.sha256 = '0'.repeat(64);

    // Act
    const missing = await rejection(
      emulator.handle('CreateDeployment', lambdaInput('1', '2', { revision: undefined }), caller),
    );
    const mismatch = await rejection(emulator.handle('CreateDeployment', tampered, caller));

    // Assess
    expect(missing).toBeInstanceOf(RevisionRequiredException);
    expect(mismatch).toBeInstanceOf(InvalidRevisionException);
    expect(mismatch.name).toBe('InvalidRevisionException');
  });

  it('reads AppSpec keys case-insensitively', async () => {
    // Prepare
    const { emulator, clock } = setup();
    const input = lambdaInput('1', '2', {
      deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
      revision: appSpecRevision({
        version: 0.0,
        resources: [
          {
            checkout: {
              type: 'AWS::Lambda::Function',
              properties: { name: 'checkout', alias: 'live', currentversion: '1', targetversion: '2' },
            },
          },
        ],
      }),
    });

    // Act
    const id = await create(emulator, input);
    await clock.advanceTo(0);

    // Assess
    expect((await info(emulator, id)).status).toBe('Succeeded');
  });
});

describe('CodeDeployEmulator traffic shifting', () => {
  it('shifts a canary 10% then 100% at the config minutes and emits START then SUCCESS on the default bus', async () => {
    // Prepare
    const { emulator, clock, lambda, alarms, bus } = setup();

    // Act
    const id = await create(emulator, lambdaInput('1', '2'));
    await clock.advanceTo(0);
    const atStart = lambda.routing('checkout', 'live');
    await clock.advanceTo(5 * MINUTE - 1);
    const beforeEnd = {
      routing: lambda.routing('checkout', 'live'),
      status: (await info(emulator, id)).status,
    };
    await clock.advanceTo(5 * MINUTE);
    const deployment = await info(emulator, id);

    // Assess
    expect(atStart).toEqual({ primary: '1', additional: { version: '2', weight: 0.1 } });
    expect(beforeEnd).toEqual({
      routing: { primary: '1', additional: { version: '2', weight: 0.1 } },
      status: 'InProgress',
    });
    expect(lambda.routing('checkout', 'live')).toEqual({ primary: '2' });
    expect(deployment.status).toBe('Succeeded');
    expect(deployment.creator).toBe('user');
    expect(deployment.deploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect(deployment.createTime).toBeInstanceOf(Date);
    expect(alarms.polls).toBe(5);
    expect(bus.entries.map((e) => e.busName)).toEqual(['default', 'default']);
    expect(bus.entries[1]?.entry).toEqual({
      source: 'aws.codedeploy',
      detailType: 'CodeDeploy Deployment State-change Notification',
      resources: [
        'arn:aws:codedeploy:us-east-1:000000000000:application:upshift-checkout',
        'arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:upshift-checkout/checkout-prod',
      ],
      detail: {
        region: 'us-east-1',
        application: 'upshift-checkout',
        deploymentGroup: 'checkout-prod',
        deploymentId: id,
        state: 'SUCCESS',
        instanceGroupId: expect.stringMatching(
          /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        ),
      },
    });
    expect(bus.states()).toEqual(['START', 'SUCCESS']);
  });

  it('stops on an ALARM during the shift with ALARM_ACTIVE and rolls back to the old version', async () => {
    // Prepare
    const { emulator, clock, lambda, alarms, bus } = setup();
    const id = await create(emulator, lambdaInput('1', '2'));
    await clock.advanceTo(MINUTE);
    alarms.states.set('checkout-errors', 'ALARM');

    // Act
    await clock.advanceTo(2 * MINUTE);
    const stopped = await info(emulator, id);
    const rollbackId = String(stopped.rollbackInfo?.rollbackDeploymentId);
    const rollback = await info(emulator, rollbackId);

    // Assess
    expect(stopped.status).toBe('Stopped');
    expect(stopped.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(stopped.errorInformation?.message).toContain('Activated alarms: <checkout-errors>');
    expect(rollback.creator).toBe('codeDeployRollback');
    expect(rollback.status).toBe('Succeeded');
    expect(rollback.rollbackInfo?.rollbackTriggeringDeploymentId).toBe(id);
    expect(lambda.routing('checkout', 'live')).toEqual({ primary: '1' });
    expect(bus.states()).toEqual(['START', 'STOP', 'START', 'SUCCESS']);
    // Later minutes of the stopped shift do nothing, and the group takes the next deployment.
    await clock.advanceTo(10 * MINUTE);
    expect(lambda.routing('checkout', 'live')).toEqual({ primary: '1' });
    alarms.states.set('checkout-errors', 'OK');
    expect(await create(emulator, lambdaInput('1', '3'))).toMatch(/^d-[A-Z0-9]{9}$/);
  });

  it('ignores a firing alarm when overrideAlarmConfiguration disables alarms', async () => {
    // Prepare
    const { emulator, clock, lambda, alarms } = setup();
    alarms.states.set('checkout-errors', 'ALARM');
    const input = lambdaInput('1', '2', { overrideAlarmConfiguration: { enabled: false, alarms: [] } });

    // Act
    const id = await create(emulator, input);
    await clock.advanceTo(5 * MINUTE);
    const deployment = await info(emulator, id);

    // Assess
    expect(deployment.status).toBe('Succeeded');
    expect(deployment.overrideAlarmConfiguration).toEqual({ enabled: false, alarms: [] });
    expect(alarms.polls).toBe(0);
    expect(lambda.routing('checkout', 'live')).toEqual({ primary: '2' });
  });

  it('fails after about 30 s when a hook fails, without moving traffic, and rolls back on DEPLOYMENT_FAILURE', async () => {
    // Prepare
    const { emulator, clock, lambda, bus } = setup({
      hookFailure: (d) => (d.target === '2' ? 'HOOK_EXECUTION_FAILURE' : undefined),
    });
    const id = await create(emulator, lambdaInput('1', '2'));

    // Act
    await clock.advanceTo(29_999);
    const before = (await info(emulator, id)).status;
    await clock.advanceTo(30_000);
    const failed = await info(emulator, id);

    // Assess
    expect(before).toBe('InProgress');
    expect(failed.status).toBe('Failed');
    expect(failed.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(failed.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    expect(lambda.routes).toEqual([{ primary: '1' }]);
    expect(bus.states()).toEqual(['START', 'FAILURE', 'START', 'SUCCESS']);
  });

  it('shifts on a custom linear config from AWS::CodeDeploy::DeploymentConfig', async () => {
    // Prepare
    const { emulator, clock, lambda } = setup({
      customConfigs: [
        {
          deploymentConfigName: 'Linear50Every2',
          computePlatform: 'Lambda',
          trafficRoutingConfig: {
            Type: 'TimeBasedLinear',
            TimeBasedLinear: { LinearPercentage: 50, LinearInterval: 2 },
          },
        },
      ],
    });

    // Act
    const id = await create(emulator, lambdaInput('1', '2', { deploymentConfigName: 'Linear50Every2' }));
    await clock.advanceTo(2 * MINUTE);

    // Assess
    expect(lambda.routes).toEqual([
      { primary: '1', additional: { version: '2', weight: 0.5 } },
      { primary: '2' },
    ]);
    expect((await info(emulator, id)).status).toBe('Succeeded');
  });
});

describe('CodeDeployEmulator StopDeployment', () => {
  it('stops without rollback when autoRollbackEnabled is false and refuses a second stop', async () => {
    // Prepare
    const { emulator, clock, lambda, bus } = setup();
    const id = await create(emulator, lambdaInput('1', '2'));
    await clock.advanceTo(MINUTE);

    // Act
    const out = await emulator.handle(
      'StopDeployment',
      { deploymentId: id, autoRollbackEnabled: false },
      caller,
    );
    await clock.advanceTo(10 * MINUTE);
    const stopped = await info(emulator, id);
    const again = await rejection(emulator.handle('StopDeployment', { deploymentId: id }, caller));

    // Assess
    expect(out.status).toBe('Succeeded');
    expect(stopped.status).toBe('Stopped');
    expect(stopped.errorInformation?.code).toBe('MANUAL_STOP');
    expect(stopped.rollbackInfo).toBeUndefined();
    expect(lambda.routing('checkout', 'live')).toEqual({
      primary: '1',
      additional: { version: '2', weight: 0.1 },
    });
    expect(bus.states()).toEqual(['START', 'STOP']);
    expect(again).toBeInstanceOf(DeploymentAlreadyCompletedException);
  });

  it('stops and rolls back when autoRollbackEnabled is true', async () => {
    // Prepare
    const { emulator, clock, lambda } = setup();
    const id = await create(emulator, lambdaInput('1', '2'));
    await clock.advanceTo(MINUTE);

    // Act
    await emulator.handle('StopDeployment', { deploymentId: id, autoRollbackEnabled: true }, caller);
    const stopped = await info(emulator, id);
    const rollback = await info(emulator, String(stopped.rollbackInfo?.rollbackDeploymentId));

    // Assess
    expect(stopped.status).toBe('Stopped');
    expect(rollback.creator).toBe('codeDeployRollback');
    expect(rollback.rollbackInfo?.rollbackTriggeringDeploymentId).toBe(id);
    expect(lambda.routing('checkout', 'live')).toEqual({ primary: '1' });
  });

  it("follows the group's DEPLOYMENT_STOP_ON_REQUEST when autoRollbackEnabled is omitted", async () => {
    // Prepare
    const withStopRollback = {
      ...lambdaGroup,
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_REQUEST'] },
    };
    const { emulator } = setup({ groups: [withStopRollback] });
    const id = await create(emulator, lambdaInput('1', '2'));

    // Act
    await emulator.handle('StopDeployment', { deploymentId: id }, caller);

    // Assess
    expect((await info(emulator, id)).rollbackInfo?.rollbackDeploymentId).toMatch(/^d-[A-Z0-9]{9}$/);
  });

  it('answers malformed and unknown deployment ids with the SDK exceptions', async () => {
    // Prepare
    const { emulator } = setup();

    // Act
    const malformed = await rejection(emulator.handle('GetDeployment', { deploymentId: 'nope' }, caller));
    const unknown = await rejection(
      emulator.handle('GetDeployment', { deploymentId: 'd-ABCDEFGHI' }, caller),
    );

    // Assess
    expect(malformed).toBeInstanceOf(InvalidDeploymentIdException);
    expect(unknown).toBeInstanceOf(DeploymentDoesNotExistException);
    expect(unknown.name).toBe('DeploymentDoesNotExistException');
  });
});

describe('CodeDeployEmulator authorizations', () => {
  const groupArn = 'arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:upshift-checkout/checkout-prod';

  it('asks for CreateDeployment, GetDeploymentConfig and RegisterApplicationRevision', () => {
    // Prepare
    const { emulator } = setup();

    // Act
    const checks = emulator.authorizations('CreateDeployment', lambdaInput('1', '2'));

    // Assess
    expect(checks).toEqual([
      { action: 'codedeploy:CreateDeployment', resource: groupArn },
      {
        action: 'codedeploy:GetDeploymentConfig',
        resource:
          'arn:aws:codedeploy:us-east-1:000000000000:deploymentconfig:CodeDeployDefault.LambdaCanary10Percent5Minutes',
      },
      {
        action: 'codedeploy:RegisterApplicationRevision',
        resource: 'arn:aws:codedeploy:us-east-1:000000000000:application:upshift-checkout',
      },
    ]);
  });

  it('adds UpdateDeploymentGroup on the group only when overrideAlarmConfiguration is present', () => {
    // Prepare
    const { emulator } = setup();
    const input = lambdaInput('1', '2', { overrideAlarmConfiguration: { enabled: false, alarms: [] } });

    // Act
    const checks = emulator.authorizations('CreateDeployment', input);

    // Assess
    expect(checks).toContainEqual({ action: 'codedeploy:UpdateDeploymentGroup', resource: groupArn });
    expect(checks).toHaveLength(4);
  });

  it("checks GetDeployment and StopDeployment on the deployment's group, and nothing for an unknown id", async () => {
    // Prepare
    const { emulator } = setup();
    const id = await create(emulator, lambdaInput('1', '2'));

    // Act
    const get = emulator.authorizations('GetDeployment', { deploymentId: id });
    const stop = emulator.authorizations('StopDeployment', { deploymentId: id });
    const unknown = emulator.authorizations('GetDeployment', { deploymentId: 'd-ABCDEFGHI' });

    // Assess
    expect(get).toEqual([{ action: 'codedeploy:GetDeployment', resource: groupArn }]);
    expect(stop).toEqual([{ action: 'codedeploy:StopDeployment', resource: groupArn }]);
    expect(unknown).toEqual([]);
  });
});

describe('CodeDeployEmulator ECS', () => {
  it('fails a deployment whose container is not in the task definition, without moving traffic', async () => {
    // Prepare
    const { emulator, ecs } = setup();

    // Act
    const deployment = await info(emulator, await create(emulator, ecsInput(taskDef(2), 'sidecar')));

    // Assess
    expect(deployment.status).toBe('Failed');
    expect(deployment.errorInformation?.code).toBe('ECS_UPDATE_ERROR');
    expect(deployment.errorInformation?.message).toContain(
      'The container sidecar does not exist in the task definition.',
    );
    expect(ecs.routes).toEqual([]);
  });

  it('moves the service to the new task definition', async () => {
    // Prepare
    const { emulator, clock, ecs } = setup();

    // Act
    const id = await create(emulator, ecsInput(taskDef(2), 'app'));
    await clock.advanceTo(0);

    // Assess
    expect((await info(emulator, id)).status).toBe('Succeeded');
    expect(ecs.routes).toEqual([{ primary: taskDef(2) }]);
  });
});

describe('CodeDeployEmulator events and state', () => {
  it('loses the state-change events when dropEvents is set, and still deploys', async () => {
    // Prepare
    const { emulator, clock, bus } = setup();
    emulator.dropEvents = true;

    // Act
    const id = await create(emulator, lambdaInput('1', '2'));
    await clock.advanceTo(5 * MINUTE);

    // Assess
    expect(bus.entries).toEqual([]);
    expect((await info(emulator, id)).status).toBe('Succeeded');
  });

  it('restores a snapshot as plain JSON and resumes the shift in progress', async () => {
    // Prepare
    const first = setup();
    const id = await create(first.emulator, lambdaInput('1', '2'));
    await first.clock.advanceTo(2 * MINUTE);
    const data = JSON.parse(JSON.stringify(first.emulator.snapshot()));
    const second = setup();
    second.lambda.routeAlias('checkout', 'live', '1', { version: '2', weight: 0.1 });
    await second.clock.advanceTo(2 * MINUTE);

    // Act
    second.emulator.restore(data);
    await second.clock.advanceTo(5 * MINUTE);

    // Assess
    expect((await info(second.emulator, id)).status).toBe('Succeeded');
    expect(second.lambda.routing('checkout', 'live')).toEqual({ primary: '2' });
    expect(second.emulator.list().map((d) => d.deploymentId)).toEqual([id]);
  });

  it('reports progress for the demo timeline', async () => {
    // Prepare
    const { emulator, clock } = setup();
    const notes: string[] = [];
    emulator.onProgress((p) => notes.push(`${p.status} ${p.trafficPercent}%`));

    // Act
    await create(emulator, lambdaInput('1', '2'));
    await clock.advanceTo(5 * MINUTE);

    // Assess
    expect(notes).toEqual(['InProgress 0%', 'InProgress 10%', 'InProgress 100%', 'Succeeded 100%']);
  });
});

describe('CodeDeployEmulator behind the real adapter', () => {
  it('answers the CodeDeploy adapter through an SDK client, including a revert that overrides the alarms', async () => {
    // Prepare
    const { emulator, clock, lambda, alarms } = setup();
    alarms.states.set('checkout-errors', 'ALARM');
    const client = new CodeDeployClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
    });
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const output = await emulator.handle(
          context.commandName ?? '',
          args.input as Record<string, unknown>,
          caller,
        );
        return { output: { ...output, $metadata: {} }, response: {} };
      },
      { step: 'initialize', name: 'twinEmulator' },
    );
    const deployer = new CodeDeployDeployer(client);
    const request: DeploymentRequest = {
      workflowId: 'wf-1',
      component: 'checkout',
      environment: 'prod',
      platform: 'lambda',
      target: { type: 'lambda', functionName: 'checkout', alias: 'live' },
      version: '1.1.0',
      artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '2' },
      currentArtifact: { type: 'lambda', functionName: 'checkout', functionVersion: '1' },
      deploymentConfig: 'CodeDeployDefault.LambdaAllAtOnce',
      alarmNames: ['checkout-errors'],
      revert: true,
    };

    // Act
    const { deploymentId } = await deployer.createDeployment(request);
    await clock.advanceTo(0);
    const deployment = await deployer.getDeployment(deploymentId);

    // Assess
    expect(deployment.status).toBe('Succeeded');
    expect(deployment.creator).toBe('user');
    expect(lambda.routing('checkout', 'live')).toEqual({ primary: '2' });
  });
});

describe('CodeDeployEmulator ListDeployments and BatchGetDeployments', () => {
  it("lists a group's deployments newest first, filtered by status and create time", async () => {
    // Prepare: one failed at once (10:00), one succeeded (10:01), one in progress (10:02)
    const { emulator, clock } = setup();
    const failed = await create(emulator, lambdaInput('3', '2'));
    await clock.advanceTo(MINUTE);
    const succeeded = await create(
      emulator,
      lambdaInput('1', '2', { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }),
    );
    await clock.advanceTo(2 * MINUTE);
    const running = await create(emulator, lambdaInput('2', '3'));
    const list = (input: Record<string, unknown>) =>
      emulator.handle(
        'ListDeployments',
        { applicationName: 'upshift-checkout', deploymentGroupName: 'checkout-prod', ...input },
        caller,
      );

    // Act
    const all = await list({});
    const ended = await list({ includeOnlyStatuses: ['Succeeded', 'Failed', 'Stopped'] });
    const recent = await list({ createTimeRange: { start: new Date(MINUTE) } });
    const other = await emulator.handle(
      'ListDeployments',
      { applicationName: 'upshift-web', deploymentGroupName: 'web-prod' },
      caller,
    );

    // Assess
    expect(all).toEqual({ deployments: [running, succeeded, failed] });
    expect(ended.deployments).toEqual([succeeded, failed]);
    expect(recent.deployments).toEqual([running, succeeded]);
    expect(other).toEqual({ deployments: [] });
  });

  it('pages past 100 ids with a nextToken, and refuses a token it did not issue', async () => {
    // Prepare: 101 deployments that fail at once (CurrentVersion mismatch), freeing the group
    const { emulator } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) ids.push(await create(emulator, lambdaInput('3', '2')));
    const input = { applicationName: 'upshift-checkout', deploymentGroupName: 'checkout-prod' };

    // Act
    const first = await emulator.handle('ListDeployments', input, caller);
    const second = await emulator.handle('ListDeployments', { ...input, nextToken: first.nextToken }, caller);
    const forged = await rejection(emulator.handle('ListDeployments', { ...input, nextToken: 'x' }, caller));

    // Assess
    expect(first.deployments).toHaveLength(100);
    expect(typeof first.nextToken).toBe('string');
    expect(second).toEqual({ deployments: [ids[0]] });
    expect(forged).toBeInstanceOf(InvalidNextTokenException);
  });

  it('refuses an application without its group, an unknown group and an unknown status', async () => {
    // Prepare
    const { emulator } = setup();

    // Act
    const noGroup = await rejection(
      emulator.handle('ListDeployments', { applicationName: 'upshift-checkout' }, caller),
    );
    const unknownGroup = await rejection(
      emulator.handle(
        'ListDeployments',
        { applicationName: 'upshift-checkout', deploymentGroupName: 'nope' },
        caller,
      ),
    );
    const badStatus = await rejection(
      emulator.handle(
        'ListDeployments',
        {
          applicationName: 'upshift-checkout',
          deploymentGroupName: 'checkout-prod',
          includeOnlyStatuses: ['Done'],
        },
        caller,
      ),
    );

    // Assess
    expect(noGroup).toBeInstanceOf(DeploymentGroupNameRequiredException);
    expect(unknownGroup).toBeInstanceOf(DeploymentGroupDoesNotExistException);
    expect(badStatus).toBeInstanceOf(InvalidDeploymentStatusException);
  });

  it('describes up to 25 deployments as GetDeployment does, leaving unknown ids out', async () => {
    // Prepare
    const { emulator } = setup();
    const id = await create(emulator, lambdaInput('1', '2'));

    // Act
    const out = await emulator.handle('BatchGetDeployments', { deploymentIds: [id, 'd-ABCDEFGHI'] }, caller);
    const none = await rejection(emulator.handle('BatchGetDeployments', { deploymentIds: [] }, caller));
    const tooMany = await rejection(
      emulator.handle('BatchGetDeployments', { deploymentIds: Array.from({ length: 26 }, () => id) }, caller),
    );
    const malformed = await rejection(
      emulator.handle('BatchGetDeployments', { deploymentIds: ['nope'] }, caller),
    );

    // Assess
    expect(out.deploymentsInfo).toEqual([await info(emulator, id)]);
    expect(none).toBeInstanceOf(DeploymentIdRequiredException);
    expect(tooMany).toBeInstanceOf(BatchLimitExceededException);
    expect(malformed).toBeInstanceOf(InvalidDeploymentIdException);
  });

  it("authorizes ListDeployments on the group and BatchGetDeployments on each known deployment's group", async () => {
    // Prepare
    const { emulator } = setup();
    const checkout = await create(emulator, lambdaInput('1', '2'));
    const web = await create(emulator, ecsInput(taskDef(2), 'app'));
    const group = (g: string) => `arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:${g}`;

    // Act
    const list = emulator.authorizations('ListDeployments', {
      applicationName: 'upshift-checkout',
      deploymentGroupName: 'checkout-prod',
    });
    const listAll = emulator.authorizations('ListDeployments', {});
    const batch = emulator.authorizations('BatchGetDeployments', {
      deploymentIds: [checkout, web, 'd-ABCDEFGHI'],
    });

    // Assess
    expect(list).toEqual([
      { action: 'codedeploy:ListDeployments', resource: group('upshift-checkout/checkout-prod') },
    ]);
    expect(listAll).toEqual([{ action: 'codedeploy:ListDeployments', resource: group('*') }]);
    expect(batch).toEqual([
      { action: 'codedeploy:BatchGetDeployments', resource: group('upshift-checkout/checkout-prod') },
      { action: 'codedeploy:BatchGetDeployments', resource: group('upshift-web/web-prod') },
    ]);
  });
});

describe('CodeDeployEmulator behind the real adapter: findDeployment', () => {
  it("finds the deployment of a workflow by its description, of the asked kind, and no other workflow's", async () => {
    // Prepare: wf-1's upgrade (rolled back by its revert), then wf-2's upgrade
    const { emulator, clock } = setup();
    const client = new CodeDeployClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
    });
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const output = await emulator.handle(
          context.commandName ?? '',
          args.input as Record<string, unknown>,
          caller,
        );
        return { output: { ...output, $metadata: {} }, response: {} };
      },
      { step: 'initialize', name: 'twinEmulator' },
    );
    const deployer = new CodeDeployDeployer(client);
    const base: DeploymentRequest = {
      workflowId: 'wf-1',
      component: 'checkout',
      environment: 'prod',
      platform: 'lambda',
      target: { type: 'lambda', functionName: 'checkout', alias: 'live' },
      version: '1.1.0',
      artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '2' },
      currentArtifact: { type: 'lambda', functionName: 'checkout', functionVersion: '1' },
      deploymentConfig: 'CodeDeployDefault.LambdaAllAtOnce',
      alarmNames: ['checkout-errors'],
    };
    const upgrade = await deployer.createDeployment(base);
    await clock.advanceTo(0);
    const revert = await deployer.createDeployment({
      ...base,
      version: '1.0.0',
      artifact: base.currentArtifact as DeploymentRequest['artifact'],
      currentArtifact: base.artifact,
      revert: true,
    });
    await clock.advanceTo(MINUTE);
    const other = await deployer.createDeployment({ ...base, workflowId: 'wf-2' });
    const where = { component: 'checkout', environment: 'prod' };

    // Act
    const found = await deployer.findDeployment({ ...where, workflowId: 'wf-1' });
    const foundRevert = await deployer.findDeployment({ ...where, workflowId: 'wf-1', revert: true });
    const foundOther = await deployer.findDeployment({
      ...where,
      workflowId: 'wf-2',
      createdAfter: new Date(MINUTE).toISOString(),
    });
    const none = await deployer.findDeployment({ ...where, workflowId: 'wf-3' });

    // Assess
    expect(found).toEqual({ deploymentId: upgrade.deploymentId });
    expect(foundRevert).toEqual({ deploymentId: revert.deploymentId });
    expect(foundOther).toEqual({ deploymentId: other.deploymentId });
    expect(none).toBeUndefined();
  });
});

describe('CodeDeployEmulator: EC2/on-premises (Server) deployments', () => {
  const serverSetup = () =>
    setup({
      applications: [{ name: 'upshift-web', computePlatform: 'Server' }],
      groups: [
        {
          applicationName: 'upshift-web',
          deploymentGroupName: 'web-staging',
          deploymentConfigName: 'CodeDeployDefault.OneAtATime',
          autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
        },
      ],
    });
  const request: DeploymentRequest = {
    workflowId: 'wf-ec2',
    component: 'web',
    environment: 'staging',
    platform: 'ec2',
    target: { type: 'ec2', autoScalingGroups: ['web-asg'] },
    version: '1.1.0',
    artifact: { type: 'ec2', revision: { bucket: 'builds-bucket', key: 'web/1.1.0.zip', bundleType: 'zip' } },
    deploymentConfig: 'CodeDeployDefault.HalfAtATime',
    alarmNames: [],
  };

  it("accepts the Deploy step's S3 revision (CodeDeployDeployer's exact request) and runs it to Succeeded", async () => {
    // Prepare
    const { emulator, clock } = serverSetup();
    const input = await import('../../shared/aws/codedeploy-deployer').then((m) =>
      m.buildCreateDeploymentInput(request),
    );
    // Act
    const id = await create(emulator, input as unknown as Record<string, unknown>);
    await clock.advanceTo(60 * MINUTE);
    // Assess
    expect(input.revision).toEqual({
      revisionType: 'S3',
      s3Location: { bucket: 'builds-bucket', key: 'web/1.1.0.zip', bundleType: 'zip' },
    });
    expect((await info(emulator, id)).status).toBe('Succeeded');
  });

  it('refuses a Server deployment without a revision, with an AppSpec, or with a bundle that is no archive', async () => {
    // Prepare
    const { emulator } = serverSetup();
    const base = { applicationName: 'upshift-web', deploymentGroupName: 'web-staging' };
    // Act
    const missing = await rejection(emulator.handle('CreateDeployment', base, caller));
    const appSpec = await rejection(
      emulator.handle('CreateDeployment', { ...base, revision: appSpecRevision({ version: 0.0 }) }, caller),
    );
    const yaml = await rejection(
      emulator.handle(
        'CreateDeployment',
        {
          ...base,
          revision: {
            revisionType: 'S3',
            s3Location: { bucket: 'b', key: 'appspec.yml', bundleType: 'YAML' },
          },
        },
        caller,
      ),
    );
    const noKey = await rejection(
      emulator.handle(
        'CreateDeployment',
        { ...base, revision: { revisionType: 'S3', s3Location: { bucket: 'b' } } },
        caller,
      ),
    );
    // Assess
    expect(missing).toBeInstanceOf(RevisionRequiredException);
    expect(appSpec).toBeInstanceOf(InvalidRevisionException);
    expect(appSpec.message).toContain('not a revision of the Server compute platform');
    expect(yaml).toBeInstanceOf(InvalidRevisionException);
    expect(yaml.message).toContain('zip, tar or tgz');
    expect(noKey).toBeInstanceOf(InvalidRevisionException);
  });
});
