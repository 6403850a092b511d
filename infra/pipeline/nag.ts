import type { CfnElement } from 'aws-cdk-lib';
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { CatalogSeed } from '../catalog-seed';
import { type PipelineFunctionMap, type StepName, steps } from './functions';
import type { PipelineTargets } from './targets';

export interface PipelineFindings {
  functions: PipelineFunctionMap;
  evidenceBucket: s3.Bucket;
  stateMachine: sfn.StateMachine;
  deadLetters: sqs.Queue;
  targets: PipelineTargets;
  seed: CatalogSeed;
}

/**
 * Each cdk-nag finding the pipeline accepts, one by one, with the reason. Anything not listed
 * here (or, for every function's X-Ray grant, in PipelineFunctions.addFunction) fails synth.
 */
export function acknowledgePipelineFindings(scope: Construct, parts: PipelineFindings): void {
  const ack = (on: Construct, id: string, reason: string) => Validations.of(on).acknowledge({ id, reason });
  const stack = Stack.of(scope);
  const { functions, evidenceBucket, stateMachine, deadLetters, targets, seed } = parts;
  const logicalId = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);

  ack(
    functions.Verify.role as iam.IRole & Construct,
    `AwsSolutions-IAM5[Resource::<${logicalId(evidenceBucket)}.Arn>/verification/*]`,
    'Verify writes one object per workflow under verification/; the keys are not known in advance.',
  );
  ack(
    evidenceBucket,
    'AwsSolutions-S1',
    'Only the Verify function writes here (its role allows PutObject under verification/ and nothing else); object-level access is auditable with CloudTrail data events, without a second bucket for access logs.',
  );
  ack(
    deadLetters,
    'AwsSolutions-SQS3',
    'This queue is itself the dead-letter queue of the EventBridge rule targets.',
  );
  ack(
    stateMachine.role as iam.IRole & Construct,
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray tracing and CloudWatch Logs delivery for Step Functions require "*" (no resource-level permissions).',
  );
  ack(
    seed.role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The AwsCustomResource providers that seed the catalog only write their own logs with it.',
  );
  if (targets.serviceRoles.lambda) {
    ack(
      targets.serviceRoles.lambda,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      'The AWS-managed minimum for CodeDeploy to shift Lambda alias traffic and read alarms.',
    );
  }
  if (targets.serviceRoles.ecs) {
    ack(
      targets.serviceRoles.ecs,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]',
      'The AWS-managed policy CodeDeploy needs for ECS blue/green: the service, its task sets, the load balancer and the alarms.',
    );
  }
  if (targets.serviceRoles.server) {
    ack(
      targets.serviceRoles.server,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRole]',
      'The AWS-managed policy CodeDeploy needs for EC2/on-premises groups: it reads the instances by tag and Auto Scaling group, adds lifecycle hooks to the groups and reads the alarms.',
    );
  }
  const codedeployArn = (resource: string) =>
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codedeploy:<AWS::Region>:<AWS::AccountId>:${resource}]`;
  ack(
    functions.Deploy.role as iam.IRole & Construct,
    codedeployArn('deploymentconfig:CodeDeployDefault.*'),
    'Reads the predefined CodeDeployDefault configs, whose names the policy chooses per upgrade.',
  );
  if (targets.groupGrant.pattern) {
    for (const role of targets.groupGrantees) {
      ack(
        role,
        codedeployArn(targets.groupGrant.pattern),
        'The catalog has too many deployment groups to list within IAM policy size quotas; every group this construct creates is named upshift-<component>/<component>-<environment>, so the pattern covers exactly the Upshift applications of this account and region (docs/decisions/0006-construct-scale.md).',
      );
    }
  }
  if (targets.alarmGrant?.pattern) {
    for (const role of targets.alarmGrantees) {
      ack(
        role,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:${targets.alarmGrant.pattern}]`,
        'The catalog has too many alarms to list within IAM policy size quotas; DescribeAlarms only reads alarm states, and the grant stays within this account and region (docs/decisions/0006-construct-scale.md).',
      );
    }
  }
  if (targets.applicationGrant.pattern) {
    ack(
      functions.Deploy.role as iam.IRole & Construct,
      codedeployArn(targets.applicationGrant.pattern),
      'The catalog has too many CodeDeploy applications to list within IAM policy size quotas; every application this construct creates is named upshift-<component> (docs/decisions/0006-construct-scale.md).',
    );
  }
  for (const { scope: holder, functions: resources } of targets.probePolicies.holders) {
    for (const resource of resources) {
      ack(
        holder,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:${resource}]`,
        `Probes invoke published versions of ${resource.split(':')[1]} by qualifier; the versions do not exist when the stack is deployed.`,
      );
    }
  }
  for (const fn of Object.keys(steps) as StepName[]) {
    ack(
      stateMachine,
      `AwsSolutions-IAM5[Resource::<${logicalId(functions[fn])}.Arn>:*]`,
      'Step Functions may invoke any version or alias of its own step functions (CDK grantInvoke).',
    );
  }
}
