import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { buildApp } from '../../infra/app';
import { callerRoleName, TARGET_CALLERS } from '../../infra/target-account';
import { parseCatalog } from '../../shared/domain/catalog';

const dir = mkdtempSync(join(tmpdir(), 'upshift-environments-'));
const PIPELINE_ACCOUNT = '123456789012';
const TARGET_ACCOUNT = '111122223333';

/** The demo catalog, with checkout's production in its own account and two EC2 components. */
function environmentsCatalog() {
  const catalog = structuredClone(demoCatalog) as Record<string, unknown> & {
    components: Record<string, Record<string, unknown>>;
  };
  const checkout = catalog.components.checkout as {
    environments: { production: { target: Record<string, unknown> } };
  };
  checkout.environments.production.target = {
    type: 'lambda',
    functionName: 'checkout',
    alias: 'live',
    account: TARGET_ACCOUNT,
    region: 'eu-central-1',
    roleName: 'upshift-checkout-production',
  };
  const ec2Environment = (version: string) => ({
    baseline: {
      version,
      artifact: {
        type: 'ec2',
        revision: { bucket: 'builds-bucket', key: `web/${version}.zip`, bundleType: 'zip' },
      },
    },
  });
  catalog.components.web = {
    target: {
      type: 'ec2',
      autoScalingGroups: ['web-asg'],
      ec2TagSet: [[{ key: 'app', value: 'web', type: 'KEY_AND_VALUE' }], [{ key: 'ring', type: 'KEY_ONLY' }]],
    },
    environments: { staging: ec2Environment('1.0.0') },
    alarms: [{ id: 'status', metric: 'errors', threshold: 0 }],
  };
  catalog.components.batch = {
    target: {
      type: 'ec2',
      autoScalingGroups: ['batch-blue', 'batch-green'],
      ec2TagSet: [[{ key: 'app', value: 'batch' }]],
      account: TARGET_ACCOUNT,
      region: 'eu-central-1',
      roleName: 'upshift-batch',
    },
    environments: { staging: ec2Environment('2.0.0') },
    alarms: [{ id: 'status', metric: 'errors', threshold: 0 }],
  };
  return catalog;
}

function synth(catalog: unknown, env = { account: PIPELINE_ACCOUNT, region: 'eu-west-1' }) {
  const file = join(dir, `catalog-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(catalog));
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  process.env.CDK_DEFAULT_ACCOUNT = env.account;
  process.env.CDK_DEFAULT_REGION = env.region;
  try {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'upshift:catalog': file } });
    const built = buildApp(app);
    let synthError: unknown;
    try {
      app.synth();
    } catch (error) {
      synthError = error;
    }
    return { app, built, synthError };
  } finally {
    for (const [key, value] of [
      ['CDK_DEFAULT_ACCOUNT', saved.account],
      ['CDK_DEFAULT_REGION', saved.region],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

const partition = { Ref: 'AWS::Partition' };

describe('environments apart: the demo catalog', () => {
  let components: Template[];
  beforeAll(() => {
    const { built } = synth(demoCatalog);
    components = built.stateless.pipeline.componentStacks.map((s) => Template.fromStack(s));
  });

  it("watches each checkout environment's own function with its own alarms", () => {
    const alarms = components.flatMap((t) => Object.values(t.findResources('AWS::CloudWatch::Alarm')));
    for (const env of ['development', 'staging', 'production']) {
      const mine = alarms.filter((a) => String(a.Properties.AlarmName).startsWith(`checkout-${env}-`));
      expect(mine.map((a) => a.Properties.AlarmName).sort()).toEqual([
        `checkout-${env}-error-rate`,
        `checkout-${env}-latency-p99`,
      ]);
      // Every metric of these alarms names this environment's function and no other.
      const dimensions = JSON.stringify(mine.map((a) => a.Properties.Metrics ?? a.Properties.Dimensions));
      expect(dimensions).toContain(`"checkout-${env}"`);
      expect(dimensions).toContain(`"checkout-${env}:live"`);
      for (const other of ['development', 'staging', 'production'].filter((o) => o !== env)) {
        expect(dimensions).not.toContain(`checkout-${other}`);
      }
    }
  });

  it('keeps every target in the pipeline account: no AssumeRole grant, no target stack', () => {
    const { built } = synth(demoCatalog);
    expect(built.targets).toEqual([]);
    const policies = Object.values(Template.fromStack(built.stateless).findResources('AWS::IAM::Policy'));
    expect(JSON.stringify(policies)).not.toContain('sts:AssumeRole');
  });
});

describe('environments apart: a target in another account (decision 0028)', () => {
  let result: ReturnType<typeof synth>;
  let stateless: Template;
  let target: Template;
  beforeAll(() => {
    result = synth(environmentsCatalog());
    stateless = Template.fromStack(result.built.stateless);
    const stack = result.built.targets[0];
    if (!stack) throw new Error('no target account stack');
    target = Template.fromStack(stack);
  });

  it('emits one target account stack, in its account and region, and the whole app passes cdk-nag', () => {
    expect(result.synthError).toBeUndefined();
    expect(result.built.targets.map((s) => [s.stackName, s.account, s.region])).toEqual([
      [`UpshiftTarget-${TARGET_ACCOUNT}-eu-central-1`, TARGET_ACCOUNT, 'eu-central-1'],
    ]);
  });

  it('grants the target callers sts:AssumeRole only on the environment roles, partition-aware', () => {
    const roleArn = (name: string) => ({
      'Fn::Join': ['', ['arn:', partition, `:iam::${TARGET_ACCOUNT}:role/${name}`]],
    });
    for (const fn of TARGET_CALLERS) {
      stateless.hasResourceProperties('AWS::IAM::Role', { RoleName: callerRoleName('UpshiftStateless', fn) });
    }
    const policies = Object.values(stateless.findResources('AWS::IAM::Policy'));
    const assume = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]).filter(
        (s) => s.Action === 'sts:AssumeRole',
      ),
    );
    expect(assume).toHaveLength(TARGET_CALLERS.length);
    for (const statement of assume) {
      expect(statement.Resource).toEqual([roleArn('upshift-batch'), roleArn('upshift-checkout-production')]);
    }
  });

  it('provisions nothing of the remote environments in the pipeline account', () => {
    const nested = result.built.stateless.pipeline.componentStacks.map((s) =>
      JSON.stringify(Template.fromStack(s).toJSON()),
    );
    expect(nested.join()).not.toContain('checkout-production');
    expect(nested.join()).not.toContain('upshift-batch');
    expect(JSON.stringify(stateless.toJSON())).not.toContain('alarm:checkout-production-');
  });

  it('creates the CodeDeploy application, groups and alarms of those environments in the target account', () => {
    target.hasResourceProperties('AWS::CodeDeploy::Application', {
      ApplicationName: 'upshift-checkout',
      ComputePlatform: 'Lambda',
    });
    target.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      ApplicationName: 'upshift-checkout',
      DeploymentGroupName: 'checkout-production',
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [{ Name: 'checkout-production-error-rate' }, { Name: 'checkout-production-latency-p99' }],
      },
      AutoRollbackConfiguration: Match.objectLike({ Enabled: true }),
    });
    target.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'checkout-production-error-rate' });
    target.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      ApplicationName: 'upshift-batch',
      DeploymentGroupName: 'batch-staging',
      Ec2TagSet: {
        Ec2TagSetList: [{ Ec2TagGroup: [{ Key: 'app', Value: 'batch', Type: 'KEY_AND_VALUE' }] }],
      },
    });
  });

  it("trusts exactly the pipeline's target callers by role ARN", () => {
    const principals = TARGET_CALLERS.map((fn) => ({
      'Fn::Join': [
        '',
        ['arn:', partition, `:iam::${PIPELINE_ACCOUNT}:role/${callerRoleName('UpshiftStateless', fn)}`],
      ],
    }));
    const role = Object.values(
      target.findResources('AWS::IAM::Role', { Properties: { RoleName: 'upshift-checkout-production' } }),
    )[0];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', partition, `:iam::${PIPELINE_ACCOUNT}:root`]] } },
        Condition: { ArnEquals: { 'aws:PrincipalArn': principals } },
      },
    ]);
  });

  it('the approvals API may not assume a target role: no grant, no trust (its display says so, decision 0028)', () => {
    const apiRole = result.built.stateless.approvals.apiFunction.role;
    if (!apiRole) throw new Error('the approvals API has no role');
    const apiRoleId = result.built.stateless.getLogicalId(apiRole.node.defaultChild as CfnElement);
    const apiPolicies = Object.values(stateless.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: apiRoleId })),
    );
    expect(apiPolicies.length).toBeGreaterThan(0);
    expect(JSON.stringify(apiPolicies)).toContain('codedeploy:GetDeployment');
    expect(JSON.stringify(apiPolicies)).not.toContain('sts:');
    expect(JSON.stringify(target.toJSON())).not.toContain('ApprovalsApi');
  });

  it('allows the environment role only its own group, function versions and alarms', () => {
    const roles = target.findResources('AWS::IAM::Role', {
      Properties: { RoleName: 'upshift-checkout-production' },
    });
    const [roleId] = Object.keys(roles);
    const policy = Object.values(target.findResources('AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties.Roles).includes(String(roleId)),
    );
    const statements = policy?.Properties.PolicyDocument.Statement as {
      Action: string | string[];
      Resource: unknown;
    }[];
    const resourcesOf = (action: string) =>
      JSON.stringify(statements.filter((s) => [s.Action].flat().includes(action)).map((s) => s.Resource));
    expect(resourcesOf('codedeploy:CreateDeployment')).toContain(
      'deploymentgroup:upshift-checkout/checkout-production',
    );
    expect(resourcesOf('codedeploy:CreateDeployment')).not.toContain('batch');
    expect(resourcesOf('lambda:InvokeFunction')).toContain(':function:checkout:*');
    expect(resourcesOf('cloudwatch:DescribeAlarms')).toContain('alarm:checkout-production-error-rate');
    expect(resourcesOf('cloudwatch:DescribeAlarms')).toContain('alarm:checkout-production-latency-p99');
    expect(resourcesOf('cloudwatch:DescribeAlarms')).not.toContain('staging');
    expect(JSON.stringify(statements)).toContain('"Ref":"AWS::Partition"');
  });

  it('provisions EC2 (Server) deployment groups from target tags and Auto Scaling groups, with the AWSCodeDeployRole service role', () => {
    const nested = result.built.stateless.pipeline.componentStacks.map((s) => Template.fromStack(s));
    const groups = nested.flatMap((t) =>
      Object.values(
        t.findResources('AWS::CodeDeploy::DeploymentGroup', {
          Properties: { DeploymentGroupName: 'web-staging' },
        }),
      ),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]?.Properties).toMatchObject({
      ApplicationName: 'upshift-web',
      AutoScalingGroups: ['web-asg'],
      DeploymentStyle: { DeploymentType: 'IN_PLACE', DeploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
      Ec2TagSet: {
        Ec2TagSetList: [
          { Ec2TagGroup: [{ Key: 'app', Value: 'web', Type: 'KEY_AND_VALUE' }] },
          { Ec2TagGroup: [{ Key: 'ring', Type: 'KEY_ONLY' }] },
        ],
      },
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: 'web-staging-status' }] },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
    });
    expect(JSON.stringify(groups[0]?.Properties.ServiceRoleArn)).toContain(
      'UpshiftStateless-codedeploy-server',
    );
    stateless.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'UpshiftStateless-codedeploy-server',
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', partition, ':iam::aws:policy/service-role/AWSCodeDeployRole']] },
      ],
    });
    expect(
      nested.some(
        (t) =>
          Object.keys(
            t.findResources('AWS::CodeDeploy::Application', {
              Properties: { ComputePlatform: 'Server', ApplicationName: 'upshift-web' },
            }),
          ).length > 0,
      ),
    ).toBe(true);
  });

  it("an EC2 alarm watches each Auto Scaling group's failed status checks, never the account's aggregate", () => {
    // One group: its own metric, with the group as dimension.
    const nested = result.built.stateless.pipeline.componentStacks.map((s) => Template.fromStack(s));
    const web = nested.flatMap((t) =>
      Object.values(
        t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'web-staging-status' } }),
      ),
    );
    expect(web).toHaveLength(1);
    expect(web[0]?.Properties).toMatchObject({
      Namespace: 'AWS/EC2',
      MetricName: 'StatusCheckFailed',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'web-asg' }],
      Statistic: 'Sum',
    });
    // Two groups: one metric each, the alarm watches their MAX.
    const batch = Object.values(
      target.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'batch-staging-status' } }),
    );
    expect(batch).toHaveLength(1);
    const properties = batch[0]?.Properties as { Metrics: Record<string, unknown>[] };
    expect(properties).not.toHaveProperty('MetricName');
    expect(properties.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'MAX([asg0, asg1])', ReturnData: true }),
        ...['batch-blue', 'batch-green'].map((group) =>
          expect.objectContaining({
            ReturnData: false,
            MetricStat: expect.objectContaining({
              Metric: {
                Namespace: 'AWS/EC2',
                MetricName: 'StatusCheckFailed',
                Dimensions: [{ Name: 'AutoScalingGroupName', Value: group }],
              },
              Stat: 'Sum',
            }),
          }),
        ),
      ]),
    );
    expect(properties.Metrics).toHaveLength(3);
    // No StatusCheckFailed anywhere without its group.
    for (const template of [...nested, target]) {
      const text = JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'));
      expect(text.match(/StatusCheckFailed/g)?.length).toBe(text.match(/AutoScalingGroupName/g)?.length);
    }
  });
});

describe('environments apart: the catalog says what is wrong, by field', () => {
  const withTarget = (target: Record<string, unknown>) => {
    const catalog = structuredClone(demoCatalog) as { components: { pricing: { target: unknown } } };
    catalog.components.pricing.target = { type: 'lambda', functionName: 'pricing', alias: 'live', ...target };
    return catalog;
  };

  it.each([
    [{ account: '1234' }, 'components.pricing.target.account: expected a 12-digit AWS account id'],
    [
      { account: TARGET_ACCOUNT, region: 'europe', roleName: 'r' },
      'components.pricing.target.region: expected an AWS region such as eu-west-1',
    ],
    [
      { account: TARGET_ACCOUNT, roleName: 'a/b' },
      'components.pricing.target.roleName: expected an IAM role name',
    ],
    [
      { account: TARGET_ACCOUNT },
      `components.pricing.target.roleName: expected the name of the role Upshift assumes in account ${TARGET_ACCOUNT}`,
    ],
    [
      { region: 'eu-west-2' },
      'components.pricing.target.account: expected the 12-digit account of the target, since it names a region',
    ],
  ])('%j', (target, message) => {
    expect(() => parseCatalog(withTarget(target))).toThrow(message);
  });

  it("an environment's target has the component's target type (one CodeDeploy compute platform)", () => {
    const catalog = structuredClone(demoCatalog) as {
      components: { checkout: { environments: { staging: { target: unknown } } } };
    };
    catalog.components.checkout.environments.staging.target = { type: 'ec2', autoScalingGroups: ['web'] };
    expect(() => parseCatalog(catalog)).toThrow(
      'components.checkout.environments.staging.target.type: expected "lambda" like the component\'s target',
    );
  });

  it('an EC2 target with alarms names its Auto Scaling groups (a tag set is no metric), at most 10', () => {
    const catalog = environmentsCatalog();
    const web = catalog.components.web as { target: Record<string, unknown>; alarms: unknown[] };
    web.target = { type: 'ec2', ec2TagSet: [[{ key: 'app', value: 'web' }]] };
    expect(() => parseCatalog(catalog)).toThrow(
      /components\.web\.target\.autoScalingGroups: expected the Auto Scaling groups of the instances, since the component has alarms: .*ec2TagSet selects no metric .*name the groups, or give the component no alarms/,
    );
    web.target = { type: 'ec2', autoScalingGroups: Array.from({ length: 11 }, (_, i) => `web-${i}`) };
    expect(() => parseCatalog(catalog)).toThrow(
      "components.web.target.autoScalingGroups: expected at most 10 Auto Scaling groups when the component has alarms (one metric each in the alarm's MAX expression, and CloudWatch takes 10 metrics an alarm), got 11",
    );
    // Without alarms, a tag set alone or many groups are fine: the deployment group takes them.
    web.alarms = [];
    web.target = { type: 'ec2', ec2TagSet: [[{ key: 'app', value: 'web' }]] };
    expect(() => parseCatalog(catalog)).not.toThrow();
    web.target = { type: 'ec2', autoScalingGroups: Array.from({ length: 11 }, (_, i) => `web-${i}`) };
    expect(() => parseCatalog(catalog)).not.toThrow();
  });

  it('an EC2 target names its instances', () => {
    const catalog = environmentsCatalog();
    (catalog.components.web as { target: Record<string, unknown> }).target = { type: 'ec2' };
    expect(() => parseCatalog(catalog)).toThrow(
      'components.web.target: expected autoScalingGroups or ec2TagSet, the instances the EC2 deployment group deploys to',
    );
  });

  it('a pipeline stack without an account cannot be trusted by a target role: synth says so', () => {
    expect(() => synth(environmentsCatalog(), { account: 'unknown', region: 'eu-west-1' })).toThrow(
      /give the pipeline stack an explicit account and region/,
    );
  });
});
