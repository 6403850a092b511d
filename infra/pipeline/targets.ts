import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { alarmName, type Catalog, type Component, targetFor } from '../../shared/domain/catalog';
import { codeDeployApplication, codeDeployGroup } from '../../shared/domain/names';
import { awsArn, exactOrPattern, iamRoleArn, stackScopedName } from '../arns';
import {
  ComponentStack,
  componentBucket,
  componentResourceCount,
  componentStackId,
  localEnvironments,
  MAX_RESOURCES_PER_COMPONENT_STACK,
  type ServicePlatform,
} from '../component-stacks';
import { ProbeInvokePolicies } from '../probe-policies';
import { grantTargetRoles, isRemote } from '../target-account';
import type { PipelineFunctionMap } from './functions';

/** Exact ARNs while the list is short, else one pattern (arns.ts exactOrPattern). */
export type Grant = { arns: string[]; pattern?: string };

export interface PipelineTargetsProps {
  catalog: Catalog;
  /**
   * Managed policies a role may hold in the target account: 10 by default, up to 20 after a
   * quota increase. Verify's invoke grants spill into managed policies past about 130 target
   * functions. Defaults to the context `upshift:managedPoliciesPerRole`, else 10.
   */
  managedPoliciesPerRole?: number;
}

/**
 * What the pipeline acts on, per component of the catalog: the CodeDeploy applications,
 * deployment groups and alarms (in nested stacks by bucket, infra/component-stacks.ts), the
 * service roles CodeDeploy assumes, and the functions' grants on them: CodeDeploy on the groups
 * and applications, DescribeAlarms on the alarms, ECS task definitions, and Verify's invoke of
 * the probed Lambda versions. Resources go into `scope` (the pipeline), as in PipelineFunctions.
 */
export class PipelineTargets {
  /** The nested stacks of the components' applications, groups and alarms, by bucket. */
  readonly componentStacks: ComponentStack[];
  /** CodeDeploy's service role per platform, once a group of that platform exists. */
  readonly serviceRoles: Partial<Record<ServicePlatform, iam.Role>> = {};
  readonly groupGrant: Grant;
  readonly applicationGrant: Grant;
  readonly alarmGrant: Grant | undefined;
  /** Every role granted on the groups, so that a pattern is acknowledged on exactly those roles. */
  readonly groupGrantees = new Set<iam.IRole & Construct>();
  readonly alarmGrantees = new Set<iam.IRole & Construct>();
  readonly probePolicies: ProbeInvokePolicies;

  constructor(
    private readonly scope: Construct,
    fns: PipelineFunctionMap,
    props: PipelineTargetsProps,
  ) {
    const { catalog } = props;
    this.componentStacks = this.addComponentStacks(catalog);
    const groups: string[] = [];
    const applications: string[] = [];
    const probedFunctions: string[] = [];
    const alarms: string[] = [];
    for (const [componentName, component] of Object.entries(catalog.components)) {
      if (localEnvironments(component).length > 0) {
        applications.push(`application:${codeDeployApplication(componentName)}`);
      }
      for (const envName of Object.keys(component.environments)) {
        const target = targetFor(component, envName);
        // A target in another account is reached as its role there (target-account.ts).
        if (isRemote(target)) continue;
        for (const def of component.alarms) alarms.push(`alarm:${alarmName(componentName, envName, def.id)}`);
        // Also the groups a user creates for targets this construct cannot provision one for.
        groups.push(
          `deploymentgroup:${codeDeployApplication(componentName)}/${codeDeployGroup(componentName, envName)}`,
        );
        if (target.type === 'lambda') probedFunctions.push(`function:${target.functionName}:*`);
      }
    }
    // Exact ARNs while the lists are short; past that, the names this construct gives them.
    this.groupGrant = exactOrPattern(
      scope,
      'codedeploy',
      groups,
      `deploymentgroup:${codeDeployApplication('*')}/*`,
    );
    this.applicationGrant = exactOrPattern(
      scope,
      'codedeploy',
      applications,
      `application:${codeDeployApplication('*')}`,
    );
    // DescribeAlarms with AlarmNames is authorized on each named alarm (CloudWatch's Service
    // Authorization Reference: resource type alarm). Catalog alarm names carry no common prefix,
    // so past the budget the grant is every alarm of this account and region, never "*".
    this.alarmGrant = alarms.length > 0 ? exactOrPattern(scope, 'cloudwatch', alarms, 'alarm:*') : undefined;
    const groupArns = this.groupGrant.arns;
    const grantGroups = (fn: lambda.Function, actions: string[]) => {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: groupArns }));
      if (fn.role) this.groupGrantees.add(fn.role as iam.IRole & Construct);
    };
    const applicationArns = this.applicationGrant.arns;
    const configArns = [awsArn('codedeploy', 'deploymentconfig:CodeDeployDefault.*')];
    grantGroups(fns.Deploy, ['codedeploy:CreateDeployment']);
    // A revert overrides the group's alarm configuration, which CodeDeploy authorizes only with
    // UpdateDeploymentGroup on the group (CreateDeployment API reference, overrideAlarmConfiguration).
    grantGroups(fns.Deploy, ['codedeploy:UpdateDeploymentGroup']);
    // A retried Deploy finds the deployment its first attempt created (decision 0014): both are
    // authorized on the deployment group (CodeDeploy permissions reference).
    grantGroups(fns.Deploy, ['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments']);
    fns.Deploy.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: configArns }),
    );
    fns.Deploy.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
        resources: applicationArns,
      }),
    );
    for (const fn of [
      fns.CheckDeployment,
      fns.AwaitDeployment,
      fns.DeploymentEvents,
      fns.Reconcile,
      fns.Intake,
      fns.ExecutionEnded,
    ]) {
      // GetDeployment and StopDeployment are authorized on the deployment group.
      grantGroups(fn, ['codedeploy:GetDeployment', 'codedeploy:StopDeployment']);
    }
    for (const fn of [
      fns.Decide,
      fns.CheckDeployment,
      fns.AwaitDeployment,
      fns.StartBake,
      fns.FinalBakeCheck,
      fns.DeploymentEvents,
      fns.AlarmEvents,
      fns.Reconcile,
    ]) {
      if (!this.alarmGrant) continue;
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: this.alarmGrant.arns }),
      );
      if (this.alarmGrant.pattern && fn.role) this.alarmGrantees.add(fn.role as iam.IRole & Construct);
    }
    if (Object.values(catalog.components).some((c) => c.target.type === 'ecs')) {
      // An ECR push becomes a task definition revision (shared/aws/ecs-task-definitions.ts). These
      // ECS actions have no resource-level permissions; PassRole is limited to ECS tasks.
      fns.Deploy.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition', 'ecs:TagResource'],
          resources: ['*'],
        }),
      );
      fns.Deploy.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: ['*'],
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
    }
    // sts:AssumeRole on the roles of the environments in other accounts (decision 0028).
    grantTargetRoles(scope, fns, catalog);
    this.probePolicies = new ProbeInvokePolicies(scope, fns.Verify.role as iam.Role, probedFunctions, {
      managedPoliciesPerRole:
        props.managedPoliciesPerRole ?? numberContext(scope, 'upshift:managedPoliciesPerRole'),
    });
  }

  /**
   * The service role CodeDeploy assumes to shift traffic and read the alarms, per platform. Named,
   * so that the nested stacks' deployment groups give its ARN from the name, without a parameter.
   */
  private codeDeployRole(platform: ServicePlatform): iam.Role {
    const policy = serviceRolePolicy[platform];
    let role = this.serviceRoles[platform];
    if (!role) {
      role = new iam.Role(
        this.scope,
        platform === 'lambda'
          ? 'CodeDeployServiceRole'
          : platform === 'ecs'
            ? 'CodeDeployEcsServiceRole'
            : 'CodeDeployServerServiceRole',
        {
          roleName: stackScopedName(this.scope, `codedeploy-${platform}`),
          assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
          managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(policy)],
        },
      );
      this.serviceRoles[platform] = role;
    }
    return role;
  }

  /**
   * One nested stack per non-empty bucket of components (componentBucket), each after the
   * service roles its groups name.
   */
  private addComponentStacks(catalog: Catalog): ComponentStack[] {
    const buckets = new Map<number, [string, Component][]>();
    for (const entry of Object.entries(catalog.components)) {
      // A component whose every environment is in another account has nothing here.
      if (localEnvironments(entry[1]).length === 0) continue;
      const bucket = componentBucket(entry[0]);
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), entry]);
    }
    const stacks: ComponentStack[] = [];
    for (const bucket of [...buckets.keys()].sort((x, y) => x - y)) {
      const components = buckets.get(bucket) ?? [];
      const id = componentStackId(bucket);
      const resources = components.reduce((sum, [, c]) => sum + componentResourceCount(c), 0);
      if (resources > MAX_RESOURCES_PER_COMPONENT_STACK) {
        throw new Error(
          `Nested stack ${id} would hold ${resources} resources (${components.map(([n]) => n).join(', ')}), more than the ${MAX_RESOURCES_PER_COMPONENT_STACK} it is allowed (CloudFormation takes 500). Components with many environments and alarms need more buckets: raise COMPONENT_STACKS in infra/component-stacks.ts (this moves components between stacks; see docs/decisions/0006-construct-scale.md).`,
        );
      }
      const usedPlatforms = new Set<ServicePlatform>();
      const stack = new ComponentStack(this.scope, id, {
        components,
        serviceRoleArn: (platform) => {
          usedPlatforms.add(platform);
          this.codeDeployRole(platform);
          return iamRoleArn(stackScopedName(this.scope, `codedeploy-${platform}`));
        },
      });
      for (const platform of usedPlatforms) stack.node.addDependency(this.codeDeployRole(platform));
      stacks.push(stack);
    }
    return stacks;
  }
}

/** The AWS-managed policy of CodeDeploy's service role per platform (CodeDeploy User Guide, service role). */
export const serviceRolePolicy: Record<ServicePlatform, string> = {
  lambda: 'service-role/AWSCodeDeployRoleForLambdaLimited',
  ecs: 'AWSCodeDeployRoleForECS',
  server: 'service-role/AWSCodeDeployRole',
};

function numberContext(scope: Construct, key: string): number | undefined {
  const value = scope.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`context ${key} must be a positive integer, not ${value}`);
  return n;
}
