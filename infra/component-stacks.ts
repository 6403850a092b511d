import { createHash } from 'node:crypto';
import { Annotations, Duration, NestedStack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { Construct } from 'constructs';
import {
  type AlarmDefinition,
  alarmName,
  type Component,
  MAX_EC2_ALARM_GROUPS,
  targetFor,
} from '../shared/domain/catalog';
import { codeDeployApplication, codeDeployGroup } from '../shared/domain/names';
import { locationOf } from '../shared/domain/target-location';

/** The CodeDeploy compute platforms whose service role a deployment group names. */
export type ServicePlatform = 'lambda' | 'ecs' | 'server';

/**
 * The environments of a component that live in the pipeline's own account: their groups and alarms
 * are in the pipeline's nested stacks. An environment whose target names another account has them
 * in that account's TargetAccountRoleStack (infra/target-account.ts, decision 0028), because
 * CodeDeploy deploys, and CloudWatch alarms watch, within their own account and region.
 */
export function localEnvironments(component: Component): string[] {
  return Object.keys(component.environments).filter((env) => !locationOf(targetFor(component, env)));
}

/** Whether the construct provisions a deployment group for this target. */
export function hasDeploymentGroup(target: ReturnType<typeof targetFor>): boolean {
  return (
    target.type === 'lambda' ||
    (target.type === 'ecs' && Boolean(target.blueGreen)) ||
    (target.type === 'ec2' && (target.autoScalingGroups.length > 0 || Boolean(target.ec2TagSet?.length)))
  );
}

/**
 * How many nested stacks the components are spread over. Fixed, so that a component always lands
 * in the same one: CodeDeploy application, group and alarm names are unique in an account and
 * region, and a named resource moved to another stack would be created there before it is
 * deleted here, which fails. Changing this number moves most components (see ADR 0006).
 */
export const COMPONENT_STACKS = 64;

/** CloudFormation's quota is 500 resources a stack; a bucket stops well short of it. */
export const MAX_RESOURCES_PER_COMPONENT_STACK = 400;

/** The nested stack a component belongs to: a hash of its name, so additions move nothing. */
export function componentBucket(component: string): number {
  return createHash('sha256').update(component).digest().readUInt32BE(0) % COMPONENT_STACKS;
}

/** The construct id of a bucket's nested stack, e.g. `Components07`. */
export function componentStackId(bucket: number): string {
  return `Components${String(bucket).padStart(2, '0')}`;
}

/** Resources a component adds to its nested stack: its application, each group and alarm. */
export function componentResourceCount(
  component: Component,
  environments = localEnvironments(component),
): number {
  if (environments.length === 0) return 0;
  let count = 1;
  for (const environment of environments) {
    const grouped = hasDeploymentGroup(targetFor(component, environment));
    count += component.alarms.length + (grouped ? 1 : 0);
  }
  return count;
}

export interface ComponentStackProps {
  components: [string, Component][];
  /** The CodeDeploy service role per platform, by ARN computed from its name (no cross-stack reference). */
  serviceRoleArn: (platform: ServicePlatform) => string;
}

/**
 * The CodeDeploy applications, deployment groups and alarms of the components in one bucket.
 * Every value it needs is a literal or a name-derived ARN, so it takes no parameters and the
 * parent exports nothing to it.
 */
export class ComponentStack extends NestedStack {
  constructor(scope: Construct, id: string, props: ComponentStackProps) {
    super(scope, id, {
      description: `Upshift: CodeDeploy applications, deployment groups and alarms of ${props.components.length} component(s)`,
    });
    for (const [name, component] of props.components) {
      const environments = localEnvironments(component);
      if (environments.length > 0) {
        new ComponentTargets(this, name, component, environments, props.serviceRoleArn);
      }
    }
  }
}

/**
 * One component's CodeDeploy application, and each given environment's deployment group and
 * alarms, in `scope`: a nested stack of the pipeline, or a TargetAccountRoleStack for the
 * environments in another account. Construct ids are `scope`'s own (App-, Group-, Alarm-), as
 * they have always been in the nested stacks.
 */
export class ComponentTargets {
  constructor(
    private readonly scope: Construct,
    componentName: string,
    component: Component,
    environments: string[],
    serviceRoleArn: (platform: ServicePlatform) => string,
  ) {
    this.addComponent(componentName, component, environments, serviceRoleArn);
  }

  private addComponent(
    componentName: string,
    component: Component,
    environments: string[],
    serviceRoleArn: (platform: ServicePlatform) => string,
  ): void {
    const scope = this.scope;
    const applicationName = codeDeployApplication(componentName);
    const app =
      component.target.type === 'lambda'
        ? new codedeploy.LambdaApplication(scope, `App-${componentName}`, { applicationName })
        : component.target.type === 'ecs'
          ? new codedeploy.EcsApplication(scope, `App-${componentName}`, { applicationName })
          : new codedeploy.ServerApplication(scope, `App-${componentName}`, { applicationName });
    for (const envName of environments) {
      const target = targetFor(component, envName);
      const groupName = codeDeployGroup(componentName, envName);
      const names = component.alarms.map((def) => alarmName(componentName, envName, def.id));
      const alarms = component.alarms.map((def) => this.alarm(componentName, envName, def, target));
      if (target.type === 'lambda') {
        // L1 because the function and its alias live outside this app; the group only names them.
        this.deploymentGroup(componentName, envName, app, alarms, names, {
          serviceRoleArn: serviceRoleArn('lambda'),
          deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
        });
      } else if (target.type === 'ecs' && target.blueGreen) {
        const bg = target.blueGreen;
        this.deploymentGroup(componentName, envName, app, alarms, names, {
          serviceRoleArn: serviceRoleArn('ecs'),
          deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
          ecsServices: [{ clusterName: target.cluster, serviceName: target.service }],
          loadBalancerInfo: {
            targetGroupPairInfoList: [
              {
                targetGroups: [{ name: bg.blueTargetGroup }, { name: bg.greenTargetGroup }],
                prodTrafficRoute: { listenerArns: [bg.prodListenerArn] },
                ...(bg.testListenerArn ? { testTrafficRoute: { listenerArns: [bg.testListenerArn] } } : {}),
              },
            ],
          },
          blueGreenDeploymentConfiguration: {
            deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
            terminateBlueInstancesOnDeploymentSuccess: {
              action: 'TERMINATE',
              terminationWaitTimeInMinutes: 5,
            },
          },
        });
      } else if (target.type === 'ec2' && hasDeploymentGroup(target)) {
        // An EC2/on-premises (Server) group: in place, to the instances of the Auto Scaling groups
        // and those the tag set selects (CodeDeploy: an instance matches one filter of every list).
        const tagSet = target.ec2TagSet ?? [];
        this.deploymentGroup(componentName, envName, app, alarms, names, {
          serviceRoleArn: serviceRoleArn('server'),
          deploymentConfigName: 'CodeDeployDefault.OneAtATime',
          deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
          ...(target.autoScalingGroups.length ? { autoScalingGroups: target.autoScalingGroups } : {}),
          ...(tagSet.length
            ? {
                ec2TagSet: {
                  ec2TagSetList: tagSet.map((group) => ({
                    ec2TagGroup: group.map((f) => ({
                      key: f.key,
                      type: f.type,
                      ...(f.value !== undefined ? { value: f.value } : {}),
                    })),
                  })),
                },
              }
            : {}),
        });
      } else {
        Annotations.of(scope).addWarningV2(
          `upshift:no-group:${componentName}-${envName}`,
          `${componentName} in ${envName} is an ${target.type} target without the load balancer details (target.blueGreen for ECS) that its CodeDeploy deployment group needs, so none is provisioned. Create "${groupName}" in application "${applicationName}".`,
        );
      }
    }
  }

  private alarm(
    component: string,
    env: string,
    def: AlarmDefinition,
    target: ReturnType<typeof targetFor>,
  ): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this.scope, `Alarm-${component}-${env}-${def.id}`, {
      alarmName: alarmName(component, env, def.id),
      alarmDescription: `Upshift: ${def.metric} of ${component} in ${env} above ${def.threshold}${
        target.type === 'ecs' && !target.blueGreen
          ? ' (stand-in: service CPU; add target.blueGreen for load balancer metrics)'
          : target.type === 'ec2'
            ? ' (stand-in: failed EC2 status checks)'
            : ''
      }`,
      metric: alarmMetric(def, target),
      threshold: def.threshold,
      evaluationPeriods: def.evaluationPeriods,
      datapointsToAlarm: def.datapointsToAlarm ?? def.evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * A deployment group (blue/green unless the platform says otherwise) with the component's alarms
   * and automatic rollback on failure, alarm and stop. L1, because the target lives outside this app.
   */
  private deploymentGroup(
    component: string,
    environment: string,
    app: Construct,
    alarms: cloudwatch.Alarm[],
    alarmNames: string[],
    platform: Pick<codedeploy.CfnDeploymentGroupProps, 'serviceRoleArn' | 'deploymentConfigName'> &
      Partial<codedeploy.CfnDeploymentGroupProps>,
  ): void {
    const group = new codedeploy.CfnDeploymentGroup(this.scope, `Group-${component}-${environment}`, {
      applicationName: codeDeployApplication(component),
      deploymentGroupName: codeDeployGroup(component, environment),
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      // Names as strings (not tokens): CodeDeploy takes alarm names, and they are fixed by the catalog.
      alarmConfiguration: { enabled: alarmNames.length > 0, alarms: alarmNames.map((name) => ({ name })) },
      autoRollbackConfiguration: {
        enabled: true,
        events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
      ...platform,
    });
    group.node.addDependency(app, ...alarms);
  }
}

/** The metric an alarm watches, by target type (what users of the component see). */
function alarmMetric(def: AlarmDefinition, target: ReturnType<typeof targetFor>): cloudwatch.IMetric {
  const period = Duration.seconds(def.periodSeconds);
  if (target.type === 'lambda') {
    const dimensionsMap = {
      FunctionName: target.functionName,
      Resource: `${target.functionName}:${target.alias}`,
    };
    const m = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap, statistic, period });
    return def.metric === 'errorRate'
      ? new cloudwatch.MathExpression({
          expression: '100 * errors / MAX([errors, invocations])',
          usingMetrics: { errors: m('Errors', 'Sum'), invocations: m('Invocations', 'Sum') },
          period,
          label: 'error rate %',
        })
      : def.metric === 'errors'
        ? m('Errors', 'Sum')
        : m('Duration', 'p99');
  }
  if (target.type === 'ecs' && target.blueGreen) {
    // What users see through the production listener's load balancer (both target groups).
    const loadBalancer = loadBalancerDimension(target.blueGreen.prodListenerArn);
    const m = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName,
        dimensionsMap: { LoadBalancer: loadBalancer },
        statistic,
        period,
      });
    return def.metric === 'errorRate'
      ? new cloudwatch.MathExpression({
          expression: '100 * errors / MAX([errors, requests])',
          usingMetrics: {
            errors: m('HTTPCode_Target_5XX_Count', 'Sum'),
            requests: m('RequestCount', 'Sum'),
          },
          period,
          label: 'error rate %',
        })
      : def.metric === 'errors'
        ? m('HTTPCode_Target_5XX_Count', 'Sum')
        : new cloudwatch.MathExpression({
            expression: '1000 * latency',
            usingMetrics: { latency: m('TargetResponseTime', 'p99') },
            period,
            label: 'p99 ms',
          });
  }
  if (target.type === 'ecs') {
    // Without the load balancer (target.blueGreen) there is no request metric to watch; the
    // service's CPU stands in, and the alarm's description says so.
    return new cloudwatch.Metric({
      namespace: 'AWS/ECS',
      metricName: 'CPUUtilization',
      dimensionsMap: { ClusterName: target.cluster, ServiceName: target.service },
      statistic: 'Average',
      period,
    });
  }
  // EC2 without a load balancer: failed status checks of the Auto Scaling groups' instances stand
  // in (the alarm's description says so), one metric per group, the worst of them (MAX). Never
  // without a dimension: that is every instance of the account. parseCatalog refuses a target with
  // alarms and no group, or more groups than an alarm's math takes (decision 0029); so does synth.
  const groups = target.autoScalingGroups;
  if (groups.length === 0 || groups.length > MAX_EC2_ALARM_GROUPS) {
    throw new Error(
      `alarm ${def.id}: target.autoScalingGroups: expected 1 to ${MAX_EC2_ALARM_GROUPS} Auto Scaling groups for an EC2 status-check alarm, got ${groups.length}`,
    );
  }
  const statusChecks = (group: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'StatusCheckFailed',
      dimensionsMap: { AutoScalingGroupName: group },
      statistic: 'Sum',
      period,
    });
  if (groups.length === 1) return statusChecks(groups[0] as string);
  return new cloudwatch.MathExpression({
    expression: `MAX([${groups.map((_, i) => `asg${i}`).join(', ')}])`,
    usingMetrics: Object.fromEntries(groups.map((group, i) => [`asg${i}`, statusChecks(group)])),
    period,
    label: 'failed status checks, worst Auto Scaling group',
  });
}

/** `app/<name>/<id>` from a listener ARN `...:listener/app/<name>/<id>/<listener-id>`. */
function loadBalancerDimension(listenerArn: string): string {
  const m = /:listener\/(app\/[^/]+\/[^/]+)\//.exec(listenerArn);
  if (!m?.[1]) throw new Error(`cannot read the load balancer from listener ARN ${listenerArn}`);
  return m[1];
}
