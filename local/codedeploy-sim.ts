import { trafficSteps } from '../shared/domain/deploy-configs';
import { DeploymentCreationFailed } from '../shared/domain/errors';
import { codeDeployApplication, codeDeployGroup } from '../shared/domain/names';
import type {
  Deployer,
  DeploymentInfo,
  DeploymentRequest,
  DeploymentStatus,
  EventPublisher,
} from '../shared/ports';
import type { CloudWatchSimulator } from './cloudwatch-sim';
import type { VirtualScheduler } from './scheduler';
import { unitHash } from './targets';
import { LiveTraffic } from './traffic';

export interface SimDeployment {
  deploymentId: string;
  application: string;
  deploymentGroup: string;
  key: string;
  fromVersion: string;
  toVersion: string;
  config: string;
  status: DeploymentStatus;
  trafficPercent: number;
  creator: 'user' | 'codeDeployRollback';
  createdAt: number;
  endedAt?: number;
  alarmNames: string[];
  errorCode?: string;
  errorMessage?: string;
  rollbackDeploymentId?: string;
  rollbackTriggeringDeploymentId?: string;
  rollbackMessage?: string;
}

export interface DeploymentProgress {
  deploymentId: string;
  key: string;
  status: DeploymentStatus;
  trafficPercent: number;
  at: number;
  note?: string;
}

/**
 * A CodeDeploy stand-in. It shifts live traffic on the predefined config's real timing, checks the
 * group's alarms every minute of the shift as CodeDeploy does, and on ALARM stops the deployment
 * and rolls back with a new deployment created by `codeDeployRollback`. It emits CodeDeploy's
 * state-change events; `dropEvents` loses them on purpose, to test the fallback poll.
 */
export class CodeDeploySimulator implements Deployer {
  private deployments = new Map<string, SimDeployment>();
  private counter = 0;
  dropEvents = false;
  private listeners: ((p: DeploymentProgress) => void)[] = [];

  constructor(
    private readonly scheduler: VirtualScheduler,
    private readonly traffic: LiveTraffic,
    private readonly alarms: CloudWatchSimulator,
    private readonly bus: EventPublisher,
    /** The error code with which a version's deployment fails, if its profile says so. */
    private readonly failureOf: (component: string, version: string) => string | undefined = () => undefined,
  ) {}

  onProgress(fn: (p: DeploymentProgress) => void): void {
    this.listeners.push(fn);
  }

  async createDeployment(request: DeploymentRequest): Promise<{ deploymentId: string }> {
    const steps = trafficSteps(request.platform, request.deploymentConfig);
    const key = LiveTraffic.key(request.component, request.environment);
    const active = [...this.deployments.values()].find((d) => d.key === key && !isEnded(d.status));
    if (active) {
      throw new DeploymentCreationFailed(
        `DeploymentAlreadyStartedException: deployment ${active.deploymentId} is already in progress for ${key}`,
      );
    }
    const now = this.scheduler.now().getTime();
    const fromVersion = this.traffic.serving(key, now) ?? request.currentVersion ?? 'unknown';
    const deployment: SimDeployment = {
      deploymentId: this.nextId(),
      application: codeDeployApplication(request.component),
      deploymentGroup: codeDeployGroup(request.component, request.environment),
      key,
      fromVersion,
      toVersion: request.version,
      config: request.deploymentConfig,
      status: 'InProgress',
      trafficPercent: 0,
      creator: 'user',
      createdAt: now,
      // A revert overrides the group's alarm configuration (see the CodeDeploy adapter).
      alarmNames: request.revert ? [] : request.alarmNames,
    };
    this.deployments.set(deployment.deploymentId, deployment);
    await this.emit(deployment, 'START');
    const failure = request.revert ? undefined : this.failureOf(request.component, request.version);
    if (failure) {
      // As a failing BeforeAllowTraffic hook does: no traffic moves, the group rolls back.
      this.scheduler.at(now + 30_000, () =>
        this.fail(
          deployment,
          failure,
          `The deployment failed because a lifecycle hook reported ${failure} for ${request.version}`,
        ),
      );
      return { deploymentId: deployment.deploymentId };
    }

    const lastMinute = steps[steps.length - 1]?.atMinute ?? 0;
    for (const step of steps) {
      this.scheduler.at(now + step.atMinute * 60_000, () => this.shift(deployment, step.percent));
    }
    // CodeDeploy polls the group's alarms during the shift.
    for (let minute = 1; minute <= lastMinute; minute++) {
      this.scheduler.at(now + minute * 60_000 - 1, async () => {
        await this.checkAlarms(deployment);
      });
    }
    this.scheduler.at(now + lastMinute * 60_000 + 1, () => this.finish(deployment));
    return { deploymentId: deployment.deploymentId };
  }

  async getDeployment(deploymentId: string): Promise<DeploymentInfo> {
    const d = this.deployments.get(deploymentId);
    if (!d) throw new Error(`DeploymentDoesNotExistException: ${deploymentId}`);
    return {
      deploymentId,
      status: d.status,
      trafficPercent: d.trafficPercent,
      creator: d.creator,
      ...(d.errorCode ? { errorCode: d.errorCode } : {}),
      ...(d.errorMessage ? { errorMessage: d.errorMessage } : {}),
      ...(d.rollbackDeploymentId ? { rollbackDeploymentId: d.rollbackDeploymentId } : {}),
      ...(d.rollbackMessage ? { rollbackMessage: d.rollbackMessage } : {}),
    };
  }

  async stopDeployment(
    deploymentId: string,
    autoRollback: boolean,
  ): Promise<{ status: 'Pending' | 'Succeeded' }> {
    const d = this.deployments.get(deploymentId);
    if (!d) throw new Error(`DeploymentDoesNotExistException: ${deploymentId}`);
    if (isEnded(d.status))
      throw new Error(`DeploymentAlreadyCompletedException: ${deploymentId} is ${d.status}`);
    await this.stop(d, 'MANUAL_STOP', 'The deployment was stopped by a user', autoRollback);
    return { status: 'Succeeded' };
  }

  list(): SimDeployment[] {
    return [...this.deployments.values()];
  }

  private async shift(d: SimDeployment, percent: number): Promise<void> {
    if (d.status !== 'InProgress') return;
    const now = this.scheduler.now().getTime();
    // Alarms see the traffic of the period that ends now before the next shift step.
    await this.alarms.catchUp(now);
    if (await this.checkAlarms(d)) return;
    d.trafficPercent = percent;
    this.traffic.set(d.key, now, weights(d.fromVersion, d.toVersion, percent));
    this.progress(d, `traffic ${percent}% on ${d.toVersion}`);
  }

  /** Returns true when an alarm stopped the deployment. */
  private async checkAlarms(d: SimDeployment): Promise<boolean> {
    if (d.status !== 'InProgress' || d.alarmNames.length === 0) return false;
    const states = await this.alarms.describe(d.alarmNames);
    const firing = states.filter((s) => s.state === 'ALARM').map((s) => s.name);
    if (firing.length === 0) return false;
    await this.stop(
      d,
      'ALARM_ACTIVE',
      `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${firing.join(', ')}>`,
      true,
    );
    return true;
  }

  private async finish(d: SimDeployment): Promise<void> {
    if (d.status !== 'InProgress') return;
    if (await this.checkAlarms(d)) return;
    d.status = 'Succeeded';
    d.endedAt = this.scheduler.now().getTime();
    this.progress(d, 'succeeded');
    await this.emit(d, 'SUCCESS');
  }

  private async fail(d: SimDeployment, code: string, message: string): Promise<void> {
    if (d.status !== 'InProgress') return;
    await this.end(d, 'Failed', code, message, true, 'FAILURE');
  }

  private async stop(d: SimDeployment, code: string, message: string, rollback: boolean): Promise<void> {
    await this.end(d, 'Stopped', code, message, rollback, 'STOP');
  }

  private async end(
    d: SimDeployment,
    status: 'Failed' | 'Stopped',
    code: string,
    message: string,
    rollback: boolean,
    event: 'FAILURE' | 'STOP',
  ): Promise<void> {
    const now = this.scheduler.now().getTime();
    d.status = status;
    d.errorCode = code;
    d.errorMessage = message;
    d.endedAt = now;
    if (rollback) {
      const rb: SimDeployment = {
        ...d,
        deploymentId: this.nextId(),
        fromVersion: d.toVersion,
        toVersion: d.fromVersion,
        status: 'Succeeded',
        trafficPercent: 100,
        creator: 'codeDeployRollback',
        createdAt: now,
        endedAt: now,
        rollbackTriggeringDeploymentId: d.deploymentId,
        errorCode: undefined,
        errorMessage: undefined,
      };
      this.deployments.set(rb.deploymentId, rb);
      d.rollbackDeploymentId = rb.deploymentId;
      d.rollbackMessage = `Deployment ${d.deploymentId} was rolled back by ${rb.deploymentId}`;
      this.traffic.set(d.key, now, { [d.fromVersion]: 100 });
      d.trafficPercent = 0;
    }
    this.progress(
      d,
      `${status.toLowerCase()}: ${code}${rollback ? `; rolled back by ${d.rollbackDeploymentId}` : ''}`,
    );
    await this.emit(d, event);
  }

  private progress(d: SimDeployment, note: string): void {
    const p = {
      deploymentId: d.deploymentId,
      key: d.key,
      status: d.status,
      trafficPercent: d.trafficPercent,
      at: this.scheduler.now().getTime(),
      note,
    };
    for (const l of this.listeners) l(p);
  }

  private async emit(d: SimDeployment, state: string): Promise<void> {
    if (this.dropEvents) return;
    await this.bus.publish([
      {
        source: 'aws.codedeploy',
        detailType: 'CodeDeploy Deployment State-change Notification',
        time: this.scheduler.now().toISOString(),
        resources: [
          `arn:aws:codedeploy:local:000000000000:application:${d.application}`,
          `arn:aws:codedeploy:local:000000000000:deploymentgroup:${d.application}/${d.deploymentGroup}`,
        ],
        detail: {
          region: 'local',
          application: d.application,
          deploymentGroup: d.deploymentGroup,
          deploymentId: d.deploymentId,
          state,
          instanceGroupId: `ig-${d.deploymentGroup}`,
        },
      },
    ]);
  }

  private nextId(): string {
    this.counter++;
    const suffix = Math.floor(unitHash(`deployment#${this.counter}#${this.deployments.size}`) * 36 ** 8)
      .toString(36)
      .toUpperCase()
      .padStart(8, '0');
    return `d-${suffix}${this.counter % 10}`;
  }

  snapshot() {
    return { counter: this.counter, deployments: [...this.deployments.values()] };
  }

  restore(data: { counter: number; deployments: SimDeployment[] }): void {
    this.counter = data.counter;
    this.deployments = new Map(data.deployments.map((d) => [d.deploymentId, d]));
  }
}

function isEnded(status: DeploymentStatus): boolean {
  return status === 'Succeeded' || status === 'Failed' || status === 'Stopped';
}

function weights(from: string, to: string, percent: number): Record<string, number> {
  if (percent >= 100 || from === to) return { [to]: 100 };
  return { [from]: 100 - percent, [to]: percent };
}
