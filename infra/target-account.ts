import { Aws, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { alarmName, type Catalog, type Target, targetFor } from '../shared/domain/catalog';
import { codeDeployApplication, codeDeployGroup } from '../shared/domain/names';
import { locationOf, type TargetLocation } from '../shared/domain/target-location';
import { ComponentTargets, type ServicePlatform } from './component-stacks';

/**
 * The pipeline functions that call a target (docs/decisions/0028): CodeDeploy (Deploy, and the
 * steps that read or stop a deployment), Lambda Invoke for probes (Verify) and DescribeAlarms on
 * the environment's alarms. Each may assume the role of an environment in another account.
 */
export const TARGET_CALLERS = [
  'Deploy',
  'Verify',
  'Intake',
  'Decide',
  'CheckDeployment',
  'AwaitDeployment',
  'StartBake',
  'FinalBakeCheck',
  'DeploymentEvents',
  'AlarmEvents',
  'Reconcile',
  'ExecutionEnded',
] as const;
export type TargetCaller = (typeof TARGET_CALLERS)[number];

/** Whether a target lives in another account (and is reached as a role there). */
export function isRemote(target: Target): boolean {
  return locationOf(target) !== undefined;
}

/** One environment of a component whose target is in another account. */
export interface RemoteEnvironment {
  component: string;
  environment: string;
  target: Target;
  location: TargetLocation;
}

export function remoteEnvironments(catalog: Catalog): RemoteEnvironment[] {
  const out: RemoteEnvironment[] = [];
  for (const [component, definition] of Object.entries(catalog.components)) {
    for (const environment of Object.keys(definition.environments)) {
      const target = targetFor(definition, environment);
      const location = locationOf(target);
      if (location) out.push({ component, environment, target, location });
    }
  }
  return out;
}

/**
 * The name of a pipeline function's role when the catalog has targets in other accounts: fixed,
 * so that the target account's trust policy can name it (a generated name is known only after
 * deployment). `<pipeline stack name>-upshift-<function>`, within IAM's 64 characters.
 */
export function callerRoleName(pipelineStackName: string, fn: TargetCaller): string {
  const suffix = `upshift-${fn}`;
  return `${pipelineStackName.slice(0, 64 - suffix.length - 1)}-${suffix}`;
}

/** The ARN of a target's role, in the partition of the stack that names it. */
export function targetRoleArnOf(location: TargetLocation): string {
  return `arn:${Aws.PARTITION}:iam::${location.account}:role/${location.roleName}`;
}

/**
 * Grants each target caller sts:AssumeRole on exactly the roles of the environments in other
 * accounts, and gives its role the fixed name those roles trust. Nothing changes for a catalog
 * whose targets are all in the pipeline's account.
 */
export function grantTargetRoles(
  scope: Construct,
  fns: Record<TargetCaller, lambda.Function>,
  catalog: Catalog,
): void {
  const remote = remoteEnvironments(catalog);
  if (remote.length === 0) return;
  const stackName = Stack.of(scope).stackName;
  if (Token.isUnresolved(stackName)) {
    throw new Error(
      `${scope.node.path}: the pipeline's stack needs a literal name to name the roles that targets in other accounts trust`,
    );
  }
  const roleArns = [...new Set(remote.map((r) => targetRoleArnOf(r.location)))].sort();
  for (const name of TARGET_CALLERS) {
    const fn = fns[name];
    const role = fn.role as iam.Role;
    (role.node.defaultChild as iam.CfnRole).roleName = callerRoleName(stackName, name);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: roleArns }));
  }
}

export interface TargetAccountRoleStackProps extends StackProps {
  catalog: Catalog;
  /** The account the pipeline runs in (12 digits). */
  pipelineAccount: string;
  /** The pipeline stack's name (its caller roles are named after it: callerRoleName). */
  pipelineStackName: string;
  /** The target account and region this stack deploys to; its environments are those there. */
  account: string;
  region: string;
  /** The pipeline's region: environments that name no region are in it. */
  pipelineRegion: string;
}

/**
 * What Upshift needs in a target account, for the catalog's environments there (decision 0028):
 * - the CodeDeploy applications, deployment groups and alarms of those environments, since
 *   CodeDeploy deploys, and alarms watch, within their own account and region, with CodeDeploy's
 *   service role per platform;
 * - each role the catalog names (`roleName`), trusting only the pipeline's target callers by role
 *   ARN, allowed exactly what the pipeline does there: CodeDeploy on its groups and applications,
 *   Invoke of the probed functions' versions, DescribeAlarms on its alarms (and, for ECS, task
 *   definition registration).
 * Deploy it in the target account after the pipeline stack (the trust policy names roles that must exist).
 */
export class TargetAccountRoleStack extends Stack {
  /** The roles Upshift assumes here, by name. */
  readonly roles: Record<string, iam.Role> = {};
  readonly serviceRoles: Partial<Record<ServicePlatform, iam.Role>> = {};
  /** The functions each role may invoke (for the acknowledgements of their version wildcards). */
  private readonly probed = new Map<iam.Role, string[]>();

  constructor(scope: Construct, id: string, props: TargetAccountRoleStackProps) {
    super(scope, id, {
      ...props,
      env: { account: props.account, region: props.region },
      description: `Upshift: the roles, CodeDeploy groups and alarms of the environments in ${props.account} ${props.region}`,
    });
    const here = remoteEnvironments(props.catalog).filter(
      (r) =>
        r.location.account === props.account && (r.location.region ?? props.pipelineRegion) === props.region,
    );
    if (here.length === 0) {
      throw new Error(
        `no environment of the catalog has its target in account ${props.account} ${props.region}`,
      );
    }
    // The pipeline account, only as its target callers' roles: by aws:PrincipalArn rather than
    // by the roles as principals, so that a caller role replaced by a deployment is still trusted
    // (IAM ties a role principal to the role's unique id) and the trust stays one statement.
    const trusted = new iam.AccountPrincipal(props.pipelineAccount).withConditions({
      ArnEquals: {
        'aws:PrincipalArn': TARGET_CALLERS.map(
          (fn) =>
            `arn:${Aws.PARTITION}:iam::${props.pipelineAccount}:role/${callerRoleName(props.pipelineStackName, fn)}`,
        ),
      },
    });
    // Groups and alarms, one application per component.
    const byComponent = new Map<string, string[]>();
    for (const r of here)
      byComponent.set(r.component, [...(byComponent.get(r.component) ?? []), r.environment]);
    for (const [component, environments] of byComponent) {
      const definition = props.catalog.components[component];
      if (!definition) continue;
      new ComponentTargets(
        this,
        component,
        definition,
        environments,
        (platform) => this.serviceRole(platform).roleArn,
      );
    }
    // The roles the pipeline assumes, with exactly what it does here.
    const byRole = new Map<string, RemoteEnvironment[]>();
    for (const r of here) byRole.set(r.location.roleName, [...(byRole.get(r.location.roleName) ?? []), r]);
    for (const [roleName, environments] of byRole) {
      const role = new iam.Role(this, `TargetRole-${roleName}`, {
        roleName,
        assumedBy: trusted,
        description:
          `Upshift (${props.pipelineStackName} in ${props.pipelineAccount}) deploys, probes and reads alarms of ${environments.map((e) => `${e.component}/${e.environment}`).join(', ')}`.slice(
            0,
            1000,
          ),
      });
      this.grantRole(role, environments, props.catalog);
      this.roles[roleName] = role;
    }
    this.acknowledge();
  }

  private serviceRole(platform: ServicePlatform): iam.Role {
    const policy = {
      lambda: 'service-role/AWSCodeDeployRoleForLambdaLimited',
      ecs: 'AWSCodeDeployRoleForECS',
      server: 'service-role/AWSCodeDeployRole',
    }[platform];
    let role = this.serviceRoles[platform];
    if (!role) {
      role = new iam.Role(this, `CodeDeployServiceRole-${platform}`, {
        assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(policy)],
      });
      this.serviceRoles[platform] = role;
    }
    return role;
  }

  private grantRole(role: iam.Role, environments: RemoteEnvironment[], catalog: Catalog): void {
    const arn = (service: string, resource: string) =>
      `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const groups = environments.map((e) =>
      arn(
        'codedeploy',
        `deploymentgroup:${codeDeployApplication(e.component)}/${codeDeployGroup(e.component, e.environment)}`,
      ),
    );
    const applications = [
      ...new Set(
        environments.map((e) => arn('codedeploy', `application:${codeDeployApplication(e.component)}`)),
      ),
    ];
    const alarms = environments.flatMap((e) =>
      (catalog.components[e.component]?.alarms ?? []).map((a) =>
        arn('cloudwatch', `alarm:${alarmName(e.component, e.environment, a.id)}`),
      ),
    );
    const functions = [
      ...new Set(
        environments.flatMap((e) =>
          e.target.type === 'lambda' ? [arn('lambda', `function:${e.target.functionName}:*`)] : [],
        ),
      ),
    ];
    // Deploy (CreateDeployment; a revert overrides the alarms, which takes UpdateDeploymentGroup;
    // a retry lists and reads deployments) and the steps that follow or stop one.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'codedeploy:CreateDeployment',
          'codedeploy:UpdateDeploymentGroup',
          'codedeploy:ListDeployments',
          'codedeploy:BatchGetDeployments',
          'codedeploy:GetDeployment',
          'codedeploy:StopDeployment',
        ],
        resources: groups,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
        resources: applications,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:GetDeploymentConfig'],
        resources: [arn('codedeploy', 'deploymentconfig:CodeDeployDefault.*')],
      }),
    );
    if (alarms.length > 0) {
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarms }),
      );
    }
    this.probed.set(role, [
      ...new Set(environments.flatMap((e) => (e.target.type === 'lambda' ? [e.target.functionName] : []))),
    ]);
    if (functions.length > 0) {
      role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions }));
    }
    if (environments.some((e) => e.target.type === 'ecs')) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition', 'ecs:TagResource'],
          resources: ['*'],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: ['*'],
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
    }
  }

  /** cdk-nag findings accepted here, each with its reason. */
  private acknowledge(): void {
    const reasons: Record<ServicePlatform, [string, string]> = {
      lambda: [
        'service-role/AWSCodeDeployRoleForLambdaLimited',
        'The AWS-managed minimum for CodeDeploy to shift Lambda alias traffic and read alarms.',
      ],
      ecs: [
        'AWSCodeDeployRoleForECS',
        'The AWS-managed policy CodeDeploy needs for ECS blue/green: the service, its task sets, the load balancer and the alarms.',
      ],
      server: [
        'service-role/AWSCodeDeployRole',
        'The AWS-managed policy CodeDeploy needs for EC2/on-premises groups: it reads the instances by tag and Auto Scaling group, adds lifecycle hooks to the groups and reads the alarms.',
      ],
    };
    for (const [platform, role] of Object.entries(this.serviceRoles) as [ServicePlatform, iam.Role][]) {
      const [policy, reason] = reasons[platform];
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`,
        reason,
      });
    }
    for (const role of Object.values(this.roles)) {
      Validations.of(role).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codedeploy:<AWS::Region>:<AWS::AccountId>:deploymentconfig:CodeDeployDefault.*]',
          reason:
            'Reads the predefined CodeDeployDefault configs, whose names the policy chooses per upgrade.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ECS task definition registration has no resource-level permissions; PassRole is limited to ECS tasks by iam:PassedToService. Present only when an ECS target is here.',
        },
      );
      for (const name of this.probed.get(role) ?? []) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${name}:*]`,
          reason: `Probes invoke published versions of ${name} by qualifier; the versions do not exist when the stack is deployed.`,
        });
      }
    }
  }
}

/**
 * One TargetAccountRoleStack per account and region that the catalog's environments name, e.g.
 * `UpshiftTarget-111122223333-eu-central-1`. A role name is global in its account: the same
 * roleName in two regions of one account is refused (name them apart).
 */
export function targetAccountStacks(
  scope: Construct,
  catalog: Catalog,
  pipeline: { account: string; region: string; stackName: string },
): TargetAccountRoleStack[] {
  const remote = remoteEnvironments(catalog);
  if (remote.length === 0) return [];
  if (!/^\d{12}$/.test(pipeline.account) || Token.isUnresolved(pipeline.region)) {
    throw new Error(
      `The catalog has targets in other accounts (${remote.map((r) => `${r.component}/${r.environment}`).join(', ')}): give the pipeline stack an explicit account and region (CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION, or the stack's env), so that their roles can trust it.`,
    );
  }
  const regionsOfRole = new Map<string, Set<string>>();
  const places = new Map<string, { account: string; region: string }>();
  for (const r of remote) {
    const region = r.location.region ?? pipeline.region;
    const key = `${r.location.account}/${r.location.roleName}`;
    regionsOfRole.set(key, (regionsOfRole.get(key) ?? new Set()).add(region));
    places.set(`${r.location.account}-${region}`, { account: r.location.account, region });
  }
  for (const [key, regions] of regionsOfRole) {
    if (regions.size > 1) {
      throw new Error(
        `roleName ${key.split('/')[1]} in account ${key.split('/')[0]} is used for targets in ${[...regions].join(' and ')}: a role is global in its account, so give the environments of each region their own roleName`,
      );
    }
  }
  return [...places.entries()].map(
    ([suffix, place]) =>
      new TargetAccountRoleStack(scope, `UpshiftTarget-${suffix}`, {
        catalog,
        pipelineAccount: pipeline.account,
        pipelineStackName: pipeline.stackName,
        pipelineRegion: pipeline.region,
        account: place.account,
        region: place.region,
      }),
  );
}
