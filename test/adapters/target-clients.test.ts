import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import { proberPorts } from '../../shared/aws/probe-clients';
import { REFRESH_BEFORE_EXPIRY_MS, roleSessionName } from '../../shared/aws/target-clients';
import { DependencyRejected } from '../../shared/domain/errors';
import { locate, partitionOf, unlocate } from '../../shared/domain/target-location';
import type { DeploymentRequest } from '../../shared/ports';

const sts = mockClient(STSClient);
const cd = mockClient(CodeDeployClient);
const cw = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);

const env = {
  UPSHIFT_TABLE_NAME: 'upshift',
  UPSHIFT_EVENT_BUS_NAME: 'upshift',
  AWS_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'UpshiftStateless-CheckDeployment',
};

function ports(now = { t: Date.parse('2026-12-02T10:00:00Z') }) {
  return {
    now,
    aws: withClients(
      awsBase(env, { clock: { now: () => new Date(now.t) } }),
      deployerPorts,
      alarmPorts,
      proberPorts,
    ),
  };
}

const production = { account: '111122223333', region: 'eu-central-1', roleName: 'upshift-target-production' };
const request: DeploymentRequest = {
  workflowId: 'wf-01JABC',
  component: 'checkout',
  environment: 'production',
  platform: 'lambda',
  target: { type: 'lambda', functionName: 'checkout', alias: 'live', ...production },
  version: '1.1.0',
  artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '7' },
  currentVersion: '1.0.0',
  currentArtifact: { type: 'lambda', functionName: 'checkout', functionVersion: '6' },
  deploymentConfig: 'CodeDeployDefault.LambdaAllAtOnce',
  alarmNames: [],
};

function credentials(expiration: Date) {
  return {
    Credentials: {
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: expiration,
    },
  };
}

beforeEach(() => {
  sts.reset();
  cd.reset();
  cw.reset();
  lambda.reset();
});

describe('targets in their own account (decision 0028)', () => {
  it('deploys as the environment role: AssumeRole with the exact shape, the region of the target, a located id', async () => {
    // Prepare
    const { aws, now } = ports();
    sts.on(AssumeRoleCommand).resolves(credentials(new Date(now.t + 3_600_000)));
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-REMOTE1' });
    // Act
    const out = await aws.deployer().createDeployment(request);
    // Assess
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: 'arn:aws:iam::111122223333:role/upshift-target-production',
      RoleSessionName: 'upshift-wf-01JABC',
      DurationSeconds: 3600,
    });
    expect(out.deploymentId).toBe('d-REMOTE1@111122223333:eu-central-1:upshift-target-production');
    const call = cd.commandCalls(CreateDeploymentCommand)[0];
    const client = call?.thisValue as CodeDeployClient;
    expect(client).toBeDefined();
    expect(await client.config.region()).toBe('eu-central-1');
    expect(await client.config.credentials()).toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      sessionToken: 'token',
    });
    expect(call?.args[0].input).toMatchObject({
      applicationName: 'upshift-checkout',
      deploymentGroupName: 'checkout-production',
    });
  });

  it('keeps the credentials of a session until five minutes before they expire, then assumes again', async () => {
    // Prepare
    const { aws, now } = ports();
    sts.on(AssumeRoleCommand).callsFake(() => credentials(new Date(now.t + 3_600_000)));
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { status: 'InProgress' } });
    const id = locate('d-REMOTE1', production);
    // Act
    await aws.deployer().getDeployment(id);
    await aws.deployer().getDeployment(id);
    now.t += 3_600_000 - REFRESH_BEFORE_EXPIRY_MS + 1;
    await aws.deployer().getDeployment(id);
    // Assess
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(cd.commandCalls(GetDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { deploymentId: 'd-REMOTE1' },
      { deploymentId: 'd-REMOTE1' },
      { deploymentId: 'd-REMOTE1' },
    ]);
    // A call that knows no workflow names its session after the function.
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input.RoleSessionName).toBe(
      'upshift-UpshiftStateless-CheckDeployment',
    );
  });

  it('answers GetDeployment under the located id, and a rollback deployment located too', async () => {
    // Prepare
    const { aws, now } = ports();
    sts.on(AssumeRoleCommand).resolves(credentials(new Date(now.t + 3_600_000)));
    cd.on(GetDeploymentCommand).resolves({
      deploymentInfo: { status: 'Stopped', rollbackInfo: { rollbackDeploymentId: 'd-BACK' } },
    });
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending' });
    const id = locate('d-REMOTE1', production);
    // Act
    const info = await aws.deployer().getDeployment(id);
    await aws.deployer().stopDeployment(id, true);
    // Assess
    expect(info.deploymentId).toBe(id);
    expect(unlocate(info.rollbackDeploymentId ?? '')).toEqual({ id: 'd-BACK', location: production });
    expect(cd.commandCalls(StopDeploymentCommand)[0]?.args[0].input).toEqual({
      deploymentId: 'd-REMOTE1',
      autoRollbackEnabled: true,
    });
  });

  it('a target in the pipeline account keeps its own role: no AssumeRole, a plain id', async () => {
    // Prepare
    const { aws } = ports();
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-LOCAL' });
    // Act
    const out = await aws.deployer().createDeployment({
      ...request,
      target: { type: 'lambda', functionName: 'checkout', alias: 'live' },
    });
    // Assess
    expect(out.deploymentId).toBe('d-LOCAL');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('a refused AssumeRole is a permanent error that names the role', async () => {
    // Prepare
    const { aws } = ports();
    sts.on(AssumeRoleCommand).rejects(
      new STSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message:
          'User: arn:aws:sts::000000000000:assumed-role/deploy/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/upshift-target-production',
      }),
    );
    // Act
    const attempt = aws.deployer().createDeployment(request);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(DependencyRejected);
    await expect(attempt).rejects.toThrow(
      /STS AssumeRole arn:aws:iam::111122223333:role\/upshift-target-production failed: AccessDenied/,
    );
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  it('reads each alarm where it lives, and answers under the name it was asked by', async () => {
    // Prepare
    const { aws, now } = ports();
    sts.on(AssumeRoleCommand).resolves(credentials(new Date(now.t + 3_600_000)));
    cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.map((name) => ({
        AlarmName: name,
        StateValue: 'OK',
        StateReason: 'fine',
      })),
    }));
    const remote = locate('checkout-production-error-rate', production);
    // Act
    const states = await aws.alarms().describe(['checkout-staging-error-rate', remote]);
    // Assess
    expect(states.map((s) => s.name)).toEqual(['checkout-staging-error-rate', remote]);
    expect(cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames)).toEqual([
      ['checkout-staging-error-rate'],
      ['checkout-production-error-rate'],
    ]);
    const remoteClient = cw.commandCalls(DescribeAlarmsCommand)[1]?.thisValue as CloudWatchClient;
    expect(await remoteClient.config.region()).toBe('eu-central-1');
  });

  it('probes a Lambda target of another account as its role, in a session named after the workflow', async () => {
    // Prepare
    const { aws, now } = ports();
    sts.on(AssumeRoleCommand).resolves(credentials(new Date(now.t + 3_600_000)));
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"status":"ok"}') as never });
    const base = { component: 'checkout', environment: 'production', target: request.target };
    // Act
    await aws.prober().compare({
      candidate: { ...base, version: '1.1.0', artifact: request.artifact },
      probes: [
        {
          name: 'ping',
          kind: 'functional',
          severity: 'error',
          payload: {},
          expectFields: [],
          expectTypes: {},
        },
      ],
      samples: 1,
      concurrency: 1,
      timeoutMs: 1000,
      workflowId: 'wf-01JABC',
    });
    // Assess
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input.RoleSessionName).toBe('upshift-wf-01JABC');
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: 'checkout',
      Qualifier: '7',
    });
  });

  it('role ARNs follow the partition of the region; session names keep to what STS takes', () => {
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('eu-west-1')).toBe('aws');
    expect(roleSessionName('wf/01 JABC')).toBe('upshift-wf-01-JABC');
    expect(roleSessionName('x'.repeat(100))).toHaveLength(64);
    expect(unlocate('d-PLAIN')).toEqual({ id: 'd-PLAIN' });
    expect(unlocate(locate('a-b', { account: '111122223333', roleName: 'r@x' }))).toEqual({
      id: 'a-b',
      location: { account: '111122223333', roleName: 'r@x' },
    });
  });
});
