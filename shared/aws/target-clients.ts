import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Artifact } from '../domain/events/artifact';
import {
  locate,
  locationKey,
  locationOf,
  type TargetLocation,
  targetRoleArn,
  unlocate,
} from '../domain/target-location';
import type { ProbeSample } from '../domain/verification';
import type {
  AlarmReader,
  AlarmState,
  Clock,
  Deployer,
  DeploymentInfo,
  DeploymentRequest,
  FindDeploymentInput,
  PairedProber,
  ProbeRun,
  Prober,
  ProbeTarget,
} from '../ports';
import { awsDependencyError } from './errors';
import type { AwsBase, ClientClass } from './ports';

/** Credentials are renewed this long before they expire, so no call goes out with stale ones. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** AssumeRole's DurationSeconds: one hour, the longest a role chain allows and the default maximum. */
export const SESSION_SECONDS = 3_600;
/** Sessions (and their clients) kept per execution environment; the oldest go first. */
const MAX_SESSIONS = 64;

export interface AssumedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * A RoleSessionName (2 to 64 of `[\w+=,.@-]`, STS AssumeRole) from what the session is for: the
 * workflow when the call knows it, else the function. CloudTrail in the target's account shows it.
 */
export function roleSessionName(purpose: string): string {
  const name = `upshift-${purpose}`.replace(/[^\w+=,.@-]/g, '-');
  return name.slice(0, 64);
}

/**
 * Temporary credentials of the roles Upshift assumes in targets' accounts: one AssumeRole per role
 * and session name, kept until REFRESH_BEFORE_EXPIRY_MS before they expire. Concurrent callers of
 * one session share the same request. The STS client is the one wiring point's, so the twin's
 * transport answers it as it answers every other client.
 *
 * No ExternalId: the role's trust policy names the pipeline's own role ARNs (not an account or a
 * third party), which is what an ExternalId would otherwise stand in for (decision 0028).
 */
export class TargetCredentials {
  private readonly sessions = new Map<string, Promise<AssumedCredentials>>();

  constructor(
    private readonly sts: () => STSClient,
    private readonly clock: Clock,
    private readonly pipelineRegion: string,
  ) {}

  /** The role ARN of a location, in the pipeline's partition. */
  roleArn(location: TargetLocation): string {
    return targetRoleArn(location, this.pipelineRegion);
  }

  async get(location: TargetLocation, sessionName: string): Promise<AssumedCredentials> {
    const key = `${this.roleArn(location)}|${sessionName}`;
    const kept = this.sessions.get(key);
    if (kept) {
      const credentials = await kept.catch(() => undefined);
      if (
        credentials &&
        credentials.expiration.getTime() - REFRESH_BEFORE_EXPIRY_MS > this.clock.now().getTime()
      ) {
        return credentials;
      }
      if (this.sessions.get(key) === kept) this.sessions.delete(key);
      else return this.get(location, sessionName);
    }
    const assuming = this.assume(location, sessionName);
    this.sessions.set(key, assuming);
    while (this.sessions.size > MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    try {
      return await assuming;
    } catch (error) {
      if (this.sessions.get(key) === assuming) this.sessions.delete(key);
      throw error;
    }
  }

  private async assume(location: TargetLocation, sessionName: string): Promise<AssumedCredentials> {
    const roleArn = this.roleArn(location);
    try {
      const out = await this.sts().send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          DurationSeconds: SESSION_SECONDS,
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error('AssumeRole returned no credentials');
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: new Date(c.Expiration),
      };
    } catch (error) {
      throw awsDependencyError(`STS AssumeRole ${roleArn}`, error);
    }
  }
}

/**
 * SDK clients for the targets in other accounts: the target's region (the pipeline's when the
 * catalog gives none) and the assumed role's credentials, made through `base.client` like every
 * other client. Credentials are fetched before the client is handed out, so a refused AssumeRole
 * fails as itself (AccessDenied: permanent) and not as the call that needed it.
 */
export class TargetClients {
  readonly credentials: TargetCredentials;
  private readonly clients = new Map<string, unknown>();
  private readonly pipelineRegion: string;

  constructor(private readonly base: AwsBase) {
    this.pipelineRegion =
      String(base.options.clientConfig?.region ?? '') || base.env.AWS_REGION || 'us-east-1';
    let sts: STSClient | undefined;
    this.credentials = new TargetCredentials(
      () => {
        sts ??= base.client(STSClient, { region: this.pipelineRegion });
        return sts;
      },
      base.clock,
      this.pipelineRegion,
    );
  }

  /** A client of `Make` acting as the location's role, in a session named for `purpose`. */
  async client<C extends { middlewareStack: unknown }>(
    Make: ClientClass<C>,
    location: TargetLocation,
    purpose: string | undefined,
  ): Promise<C> {
    const sessionName = roleSessionName(purpose ?? this.base.env.AWS_LAMBDA_FUNCTION_NAME ?? 'pipeline');
    await this.credentials.get(location, sessionName);
    const key = `${Make.name}|${locationKey(location)}|${sessionName}`;
    let made = this.clients.get(key) as C | undefined;
    if (!made) {
      made = this.base.client(Make, {
        region: location.region ?? this.pipelineRegion,
        credentials: () => this.credentials.get(location, sessionName),
      });
      this.clients.set(key, made);
      while (this.clients.size > MAX_SESSIONS * 3) {
        this.clients.delete(this.clients.keys().next().value as string);
      }
    }
    return made;
  }
}

/**
 * The deployer of every target: the pipeline's own for targets in its account, else one acting as
 * the target account's role. Deployment ids of other accounts are qualified with their location
 * (target-location.ts `locate`), so the steps that only carry an id (CheckDeployment, the
 * reconciler, ExecutionEnded) reach the right account with it.
 */
export class RoutedDeployer implements Deployer {
  constructor(
    private readonly local: Deployer,
    private readonly remote: (location: TargetLocation, purpose?: string) => Promise<Deployer>,
  ) {}

  async createDeployment(request: DeploymentRequest): Promise<{ deploymentId: string; artifact?: Artifact }> {
    const location = locationOf(request.target);
    if (!location) return this.local.createDeployment(request);
    const deployer = await this.remote(location, request.workflowId);
    const out = await deployer.createDeployment(request);
    return { ...out, deploymentId: locate(out.deploymentId, location) };
  }

  async findDeployment(
    input: FindDeploymentInput,
  ): Promise<{ deploymentId: string; artifact?: Artifact } | undefined> {
    const location = input.target ? locationOf(input.target) : undefined;
    if (!location) return this.local.findDeployment?.(input);
    const deployer = await this.remote(location, input.workflowId);
    const found = await deployer.findDeployment?.(input);
    return found ? { ...found, deploymentId: locate(found.deploymentId, location) } : undefined;
  }

  async getDeployment(deploymentId: string): Promise<DeploymentInfo> {
    const { id, location } = unlocate(deploymentId);
    if (!location) return this.local.getDeployment(deploymentId);
    const info = await (await this.remote(location)).getDeployment(id);
    return {
      ...info,
      deploymentId,
      ...(info.rollbackDeploymentId
        ? { rollbackDeploymentId: locate(info.rollbackDeploymentId, location) }
        : {}),
    };
  }

  async stopDeployment(
    deploymentId: string,
    autoRollback: boolean,
  ): Promise<{ status: 'Pending' | 'Succeeded' }> {
    const { id, location } = unlocate(deploymentId);
    if (!location) return this.local.stopDeployment(deploymentId, autoRollback);
    return (await this.remote(location)).stopDeployment(id, autoRollback);
  }
}

/**
 * DescribeAlarms where each alarm is: names qualified with another account's location are asked
 * there (one call set per location) and answered under the qualified name the caller gave.
 */
export class RoutedAlarmReader implements AlarmReader {
  constructor(
    private readonly local: AlarmReader,
    private readonly remote: (location: TargetLocation) => Promise<AlarmReader>,
  ) {}

  async describe(names: readonly string[]): Promise<AlarmState[]> {
    const groups = new Map<string, { location?: TargetLocation; names: Map<string, string> }>();
    for (const ref of names) {
      const { id, location } = unlocate(ref);
      const key = location ? locationKey(location) : '';
      const group = groups.get(key) ?? { ...(location ? { location } : {}), names: new Map() };
      group.names.set(id, ref);
      groups.set(key, group);
    }
    const out: AlarmState[] = [];
    for (const group of groups.values()) {
      const reader = group.location ? await this.remote(group.location) : this.local;
      for (const state of await reader.describe([...group.names.keys()])) {
        out.push({ ...state, name: group.names.get(state.name) ?? state.name });
      }
    }
    return out;
  }
}

/**
 * The Lambda prober of every target: the candidate's target in another account is invoked as that
 * account's role, in a session named after the workflow.
 */
export class RoutedProber implements Prober, PairedProber {
  constructor(
    private readonly local: Prober & PairedProber,
    private readonly remote: (location: TargetLocation, purpose?: string) => Promise<Prober & PairedProber>,
  ) {}

  async run(
    target: ProbeTarget,
    requests: readonly { name: string; payload: unknown }[],
    samples: number,
  ): Promise<ProbeSample[]> {
    const location = locationOf(target.target);
    return (location ? await this.remote(location) : this.local).run(target, requests, samples);
  }

  async compare(run: ProbeRun) {
    const location = locationOf(run.candidate.target);
    return (location ? await this.remote(location, run.workflowId) : this.local).compare(run);
  }
}
