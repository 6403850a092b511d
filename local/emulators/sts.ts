import { randomBytes } from 'node:crypto';
import { ExpiredTokenException, STSServiceException } from '@aws-sdk/client-sts';
import {
  type AuthorizationRequest,
  type Caller,
  type PolicyDocument,
  type ServiceEmulator,
  serviceError,
} from '../twin/contracts';
import { callerIdentityArn, evaluateResourcePolicy } from '../twin/iam';

/** A role STS may hand out sessions of: its ARN, its trust policy and its longest session. */
export interface AssumableRole {
  roleArn: string;
  /** The role's AssumeRolePolicyDocument (trust policy), as the template or the target stack has it. */
  trustPolicy: PolicyDocument;
  /** MaxSessionDuration in seconds (IAM: 3,600 by default, at most 43,200). */
  maxSessionSeconds?: number;
}

/** A session handed out: who it acts as, until when. */
export interface StsSession {
  accessKeyId: string;
  roleArn: string;
  sessionName: string;
  /** `arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>` */
  assumedRoleArn: string;
  expiresAtMs: number;
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/**
 * The twin's STS: AssumeRole, with both sides enforced as AWS does. The caller's identity policy
 * must allow `sts:AssumeRole` on the role ARN (the transport checks `authorizations()` against
 * the caller's role from the template, like every other call), and the role's trust policy must
 * allow the caller (checked here, with `aws:PrincipalArn` the caller's role ARN, as AWS sets it
 * for a role session). Either refusal is AccessDenied with AWS's message. A role the twin does not
 * know is refused the same way, as AWS does not reveal whether a role exists.
 *
 * The sessions it hands out are kept (`sessionOf`), so a transport can act as the assumed role
 * for calls signed with their credentials. The twin emulates one account: what a role of another
 * account may then do there is only as real as the emulators of that account, which the twin does
 * not have (decision 0028).
 */
export class StsEmulator implements ServiceEmulator {
  readonly prefix = 'sts' as const;
  private readonly roles = new Map<string, AssumableRole>();
  private readonly sessions = new Map<string, StsSession>();

  constructor(
    roles: readonly AssumableRole[],
    private readonly clock: { now(): Date },
    /** Called once, with the first session handed out (the twin then reads credentials per call). */
    private onFirstSession?: () => void,
  ) {
    for (const role of roles) this.roles.set(role.roleArn, role);
  }

  /** Adds (or replaces) a role, e.g. from a synthesized target account stack. */
  defineRole(role: AssumableRole): void {
    this.roles.set(role.roleArn, role);
  }

  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    if (command !== 'AssumeRole') return [];
    return [{ action: 'sts:AssumeRole', resource: String(input.RoleArn ?? '') }];
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    caller: Caller,
  ): Promise<Record<string, unknown>> {
    if (command !== 'AssumeRole') {
      throw serviceError(
        STSServiceException,
        'InvalidAction',
        `The action ${command} is not valid for this web service.`,
      );
    }
    return this.assumeRole(input, caller);
  }

  /** The session whose credentials these are, while they are valid. */
  sessionOf(accessKeyId: string): StsSession | undefined {
    const session = this.sessions.get(accessKeyId);
    if (!session) return undefined;
    if (session.expiresAtMs <= this.clock.now().getTime()) {
      throw serviceError(
        ExpiredTokenException,
        'ExpiredTokenException',
        'The security token included in the request is expired',
      );
    }
    return session;
  }

  /** The caller a session's credentials act as (the transport's `actAsSessions`), while valid. */
  callerOf(accessKeyId: string): Caller | undefined {
    const session = this.sessionOf(accessKeyId);
    return session ? { roleArn: session.roleArn, name: session.sessionName } : undefined;
  }

  private assumeRole(input: Record<string, unknown>, caller: Caller): Record<string, unknown> {
    const roleArn = String(input.RoleArn ?? '');
    const sessionName = String(input.RoleSessionName ?? '');
    const problems: string[] = [];
    if (roleArn.length < 20 || roleArn.length > 2048) {
      problems.push(
        `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length ${roleArn.length < 20 ? 'greater than or equal to 20' : 'less than or equal to 2048'}`,
      );
    }
    if (!SESSION_NAME.test(sessionName)) {
      problems.push(
        `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must ${sessionName.length < 2 || sessionName.length > 64 ? `have length ${sessionName.length < 2 ? 'greater than or equal to 2' : 'less than or equal to 64'}` : 'satisfy regular expression pattern: [\\w+=,.@-]*'}`,
      );
    }
    if (problems.length) {
      throw serviceError(
        STSServiceException,
        'ValidationError',
        `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`,
      );
    }
    const m = ROLE_ARN.exec(roleArn);
    if (!m) {
      throw serviceError(STSServiceException, 'ValidationError', `${roleArn} is invalid`);
    }
    const denied = () =>
      serviceError(
        STSServiceException,
        'AccessDenied',
        `User: ${callerIdentityArn(caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        { httpStatusCode: 403 },
      );
    const role = this.roles.get(roleArn);
    if (!role) throw denied();
    const callerAccount = /^arn:[^:]+:iam::(\d{12}):/.exec(caller.roleArn)?.[1] ?? '';
    // A trust policy has no Resource element: it applies to its own role.
    const statements = [role.trustPolicy.Statement]
      .flat()
      .map((st) =>
        st.Resource === undefined && st.NotResource === undefined ? { ...st, Resource: roleArn } : st,
      );
    const trust = evaluateResourcePolicy(statements, {
      action: 'sts:AssumeRole',
      resource: roleArn,
      principalArn: callerIdentityArn(caller),
      context: { 'aws:PrincipalArn': caller.roleArn, 'aws:PrincipalAccount': callerAccount },
    });
    if (!trust.allowed) throw denied();
    const maxSeconds = role.maxSessionSeconds ?? 3_600;
    const duration = input.DurationSeconds === undefined ? 3_600 : Number(input.DurationSeconds);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      throw serviceError(
        STSServiceException,
        'ValidationError',
        `1 validation error detected: Value '${String(input.DurationSeconds)}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${duration < 900 ? 'greater than or equal to 900' : 'less than or equal to 43200'}`,
      );
    }
    // Every caller in the twin is a role session (a function's role), so this is role chaining:
    // AWS caps it at one hour whatever the role's maximum.
    if (duration > 3_600) {
      throw serviceError(
        STSServiceException,
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (duration > maxSeconds) {
      throw serviceError(
        STSServiceException,
        'ValidationError',
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
      );
    }
    const [, partition, account, roleName] = m;
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const expiresAtMs = this.clock.now().getTime() + duration * 1000;
    const assumedRoleArn = `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`;
    this.sessions.set(accessKeyId, { accessKeyId, roleArn, sessionName, assumedRoleArn, expiresAtMs });
    const first = this.onFirstSession;
    this.onFirstSession = undefined;
    first?.();
    return {
      Credentials: {
        AccessKeyId: accessKeyId,
        SecretAccessKey: randomBytes(20).toString('base64'),
        SessionToken: randomBytes(32).toString('base64'),
        Expiration: new Date(expiresAtMs),
      },
      AssumedRoleUser: {
        AssumedRoleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}:${sessionName}`,
        Arn: assumedRoleArn,
      },
    };
  }
}
