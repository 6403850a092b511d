import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { type AssumableRole, StsEmulator } from '../../local/emulators/sts';
import {
  type Caller,
  type ServiceEmulator,
  type ServicePrefix,
  TWIN_ACCOUNT,
} from '../../local/twin/contracts';
import { accessDeniedMessage, RolePolicies } from '../../local/twin/iam';
import { TwinTransport } from '../../local/twin/transport';
import { awsBase } from '../../shared/aws/ports';
import { TargetClients } from '../../shared/aws/target-clients';
import { DependencyRejected } from '../../shared/domain/errors';

const T0 = Date.parse('2026-12-02T10:00:00Z');
const deployRole = `arn:aws:iam::${TWIN_ACCOUNT}:role/UpshiftStateless-upshift-Deploy`;
const verifyRole = `arn:aws:iam::${TWIN_ACCOUNT}:role/UpshiftStateless-upshift-Verify`;
const targetRole = 'arn:aws:iam::111122223333:role/upshift-checkout-production';
const deploy: Caller = { roleArn: deployRole, name: 'Deploy' };

/** The trust policy TargetAccountRoleStack emits, resolved: the pipeline account, as these role ARNs only. */
function trustOf(...roleArns: string[]): AssumableRole['trustPolicy'] {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: `arn:aws:iam::${TWIN_ACCOUNT}:root` },
        Condition: { ArnEquals: { 'aws:PrincipalArn': roleArns } },
      },
    ],
  };
}

function twin(options: { identityAllows?: boolean; trusted?: string[]; maxSessionSeconds?: number } = {}) {
  const now = { t: T0 };
  const sts = new StsEmulator(
    [
      {
        roleArn: targetRole,
        trustPolicy: trustOf(...(options.trusted ?? [deployRole, verifyRole])),
        ...(options.maxSessionSeconds ? { maxSessionSeconds: options.maxSessionSeconds } : {}),
      },
    ],
    { now: () => new Date(now.t) },
  );
  const identity = options.identityAllows === false ? [] : [targetRole];
  const roles = new RolePolicies([
    {
      // The target account role's own policy, as TargetAccountRoleStack grants it.
      roleArn: targetRole,
      documents: [
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'cloudwatch:DescribeAlarms',
              Resource: ['arn:aws:cloudwatch:eu-central-1:111122223333:alarm:checkout-production-error-rate'],
            },
          ],
        },
      ],
    },
    {
      roleArn: deployRole,
      documents: [
        {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: identity }],
        },
      ],
    },
  ]);
  // CloudWatch of the target account, as far as this test needs: DescribeAlarms, authorized on each alarm.
  const cloudwatch: ServiceEmulator = {
    prefix: 'cloudwatch',
    authorizations: (_command, input) =>
      ((input.AlarmNames as string[] | undefined) ?? []).map((name) => ({
        action: 'cloudwatch:DescribeAlarms',
        resource: `arn:aws:cloudwatch:eu-central-1:111122223333:alarm:${name}`,
      })),
    handle: async () => ({ MetricAlarms: [] }),
  };
  const transport = new TwinTransport(
    new Map<ServicePrefix, ServiceEmulator>([
      ['sts', sts],
      ['cloudwatch', cloudwatch],
    ]),
    {
      authorize: (caller, request) => roles.authorize(caller, request),
      deniedMessage: (caller, request, result) => accessDeniedMessage(caller, request, result),
    },
  );
  transport.actAsSessions((accessKeyId) => sts.callerOf(accessKeyId));
  const client = new STSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
  });
  transport.clientOptions(deploy, 'http://127.0.0.1:1').decorate(client);
  return { sts, transport, client, now };
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const assume = (extra: Record<string, unknown> = {}) =>
  new AssumeRoleCommand({
    RoleArn: targetRole,
    RoleSessionName: 'upshift-wf-1',
    DurationSeconds: 3600,
    ...extra,
  });

describe('StsEmulator: AssumeRole, both sides enforced as AWS does', () => {
  it('hands out a session when the identity policy allows sts:AssumeRole on the role and the trust policy trusts the caller', async () => {
    // Prepare
    const { client, sts } = twin();
    // Act
    const out = await client.send(assume());
    // Assess
    expect(out.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::111122223333:assumed-role/upshift-checkout-production/upshift-wf-1',
    );
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(out.Credentials?.Expiration?.getTime()).toBe(T0 + 3_600_000);
    expect(sts.sessionOf(out.Credentials?.AccessKeyId ?? '')).toMatchObject({
      roleArn: targetRole,
      sessionName: 'upshift-wf-1',
    });
  });

  it("refuses, as AccessDenied with AWS's message, a caller whose identity policy does not allow it", async () => {
    // Prepare
    const { client } = twin({ identityAllows: false });
    // Act
    const error = await rejection(client.send(assume()));
    // Assess
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(error.message).toBe(
      `User: arn:aws:sts::${TWIN_ACCOUNT}:assumed-role/UpshiftStateless-upshift-Deploy/Deploy is not authorized to perform: sts:AssumeRole on resource: ${targetRole} because no identity-based policy allows the sts:AssumeRole action`,
    );
  });

  it('refuses a caller the trust policy does not name, and a role it does not know, the same way', async () => {
    // Prepare
    const untrusted = twin({ trusted: [verifyRole] });
    const unknown = twin();
    // Act
    const notTrusted = await rejection(untrusted.client.send(assume()));
    const noRole = await rejection(
      unknown.client.send(assume({ RoleArn: 'arn:aws:iam::111122223333:role/nobody' })),
    );
    // Assess
    expect(notTrusted.name).toBe('AccessDenied');
    expect(notTrusted.message).toBe(
      `User: arn:aws:sts::${TWIN_ACCOUNT}:assumed-role/UpshiftStateless-upshift-Deploy/Deploy is not authorized to perform: sts:AssumeRole on resource: ${targetRole}`,
    );
    // The identity policy allows only the target role: another role is refused before its trust.
    expect(noRole.name).toBe('AccessDenied');
  });

  it('validates the session name and the duration against the role', async () => {
    // Prepare
    const { client } = twin({ maxSessionSeconds: 3600 });
    // Act
    const badName = await rejection(client.send(assume({ RoleSessionName: 'has space' })));
    const tooLong = await rejection(client.send(assume({ DurationSeconds: 7200 })));
    const beyondRole = await rejection(
      twin({ maxSessionSeconds: 1800 }).client.send(assume({ DurationSeconds: 3600 })),
    );
    // Assess
    expect(badName.name).toBe('ValidationError');
    expect(badName.message).toContain("at 'roleSessionName' failed to satisfy constraint");
    expect(tooLong.name).toBe('ValidationError');
    // A function's role assuming another role is role chaining: one hour at most.
    expect(tooLong.message).toBe(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
    expect(beyondRole.message).toBe(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  });

  it("Upshift's TargetCredentials go through the twin's STS: the refusal is permanent and names the role", async () => {
    // Prepare
    const { transport } = twin({ trusted: [verifyRole] });
    const base = awsBase(
      { UPSHIFT_TABLE_NAME: 't', UPSHIFT_EVENT_BUS_NAME: 'b' },
      { ...transport.clientOptions(deploy, 'http://127.0.0.1:1'), clock: { now: () => new Date(T0) } },
    );
    const targets = new TargetClients(base);
    // Act
    const error = await rejection(
      targets.credentials.get(
        { account: '111122223333', roleName: 'upshift-checkout-production' },
        'upshift-wf-1',
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(DependencyRejected);
    expect(error.message).toContain(`STS AssumeRole ${targetRole} failed: AccessDenied`);
  });

  it("calls made with the assumed credentials act as the role's session and are authorized against its policies", async () => {
    // Prepare
    const { transport } = twin();
    const base = awsBase(
      { UPSHIFT_TABLE_NAME: 't', UPSHIFT_EVENT_BUS_NAME: 'b' },
      { ...transport.clientOptions(deploy, 'http://127.0.0.1:1'), clock: { now: () => new Date(T0) } },
    );
    const location = {
      account: '111122223333',
      region: 'eu-central-1',
      roleName: 'upshift-checkout-production',
    };
    const cloudwatch = await new TargetClients(base).client(CloudWatchClient, location, 'wf-1');
    // Act
    const allowed = await cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: ['checkout-production-error-rate'] }),
    );
    const denied = await rejection(
      cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['checkout-staging-error-rate'] })),
    );
    // Assess
    expect(allowed.MetricAlarms).toEqual([]);
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toBe(
      'User: arn:aws:sts::111122223333:assumed-role/upshift-checkout-production/upshift-wf-1 is not authorized to perform: cloudwatch:DescribeAlarms on resource: arn:aws:cloudwatch:eu-central-1:111122223333:alarm:checkout-staging-error-rate because no identity-based policy allows the cloudwatch:DescribeAlarms action',
    );
  });

  it('an expired session is refused with ExpiredTokenException', async () => {
    // Prepare
    const { client, sts, now } = twin();
    const out = await client.send(assume({ DurationSeconds: 900 }));
    // Act
    now.t += 901_000;
    // Assess
    expect(() => sts.sessionOf(out.Credentials?.AccessKeyId ?? '')).toThrow(/expired/);
  });
});
