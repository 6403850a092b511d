import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { tableKeys } from '../../shared/aws/table-definition';
import { rulePatterns } from '../../shared/domain/patterns';

let stateful: Template;
let stateless: Template;
/** The nested stacks of the components (applications, groups, alarms). */
let components: Template[];
let synthError: unknown;

/** Asserts that one of the component stacks holds a resource of `type` with these properties. */
function componentsHave(type: string, props: Record<string, unknown>): void {
  const found = components.some((t) => Object.keys(t.findResources(type, { Properties: props })).length > 0);
  if (!found) components[0]?.hasResourceProperties(type, props);
  expect(found).toBe(true);
}

beforeAll(() => {
  // Skip esbuild bundling: the assertions read the template, not the code.
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      'upshift:catalog': 'catalog/demo.catalog.json',
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
    },
  });
  const built = buildApp(app);
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
  components = built.stateless.pipeline.componentStacks.map((stack) => Template.fromStack(stack));
  try {
    // cdk-nag's AwsSolutions checks run as a validation plugin: any unacknowledged finding throws.
    app.synth();
  } catch (error) {
    synthError = error;
  }
});

describe('infrastructure', () => {
  it('passes cdk-nag AwsSolutions with every suppression acknowledged by reason', () => {
    expect(synthError).toBeUndefined();
  });

  it('keys the table as the repositories expect, encrypted, with PITR and TTL', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: tableKeys.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableKeys.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: tableKeys.gsi1.name,
          KeySchema: [
            { AttributeName: tableKeys.gsi1.partitionKey, KeyType: 'HASH' },
            { AttributeName: tableKeys.gsi1.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ],
      TimeToLiveSpecification: { AttributeName: tableKeys.ttlAttribute, Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
    stateful.hasResourceProperties('AWS::Events::EventBus', { Name: 'upshift' });
  });

  it('deploys the same ASL file the local runtime runs, with every function substituted', () => {
    const asl = readFileSync('statemachines/upgrade.asl.json', 'utf8');
    const [machine] = Object.values(stateless.findResources('AWS::StepFunctions::StateMachine'));
    const props = (machine as { Properties: Record<string, unknown> }).Properties;
    expect(props.DefinitionString).toBe(asl);
    const substitutions = Object.keys(props.DefinitionSubstitutions as Record<string, unknown>).sort();
    const placeholders = [...new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
    expect(substitutions).toEqual(placeholders);
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('routes events with the patterns defined once in shared/domain/patterns', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', { EventPattern: rulePatterns.versionPublished });
    stateless.hasResourceProperties('AWS::Events::Rule', { EventPattern: rulePatterns.ecrImagePush });
    stateless.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
        }),
      ],
    });
  });

  it('resumes waits from CodeDeploy and alarm events on the default bus, and reconciles every minute', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: rulePatterns.codeDeployDeploymentEnded,
      EventBusName: 'default',
    });
    stateless.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: rulePatterns.alarmEnteredAlarm,
      EventBusName: 'default',
    });
    stateless.hasResourceProperties('AWS::Events::Rule', { EventPattern: rulePatterns.rollbackRequested });
    stateless.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('provisions each Lambda deployment group with its alarms and automatic rollback', () => {
    componentsHave('AWS::CodeDeploy::DeploymentGroup', {
      ApplicationName: 'upshift-checkout',
      DeploymentGroupName: 'checkout-staging',
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [{ Name: 'checkout-staging-error-rate' }, { Name: 'checkout-staging-latency-p99' }],
      },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']),
      },
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
    });
    componentsHave('AWS::CloudWatch::Alarm', {
      AlarmName: 'checkout-staging-error-rate',
      Threshold: 2,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('provisions an ECS blue/green deployment group from the catalog, with alarms and rollback', () => {
    componentsHave('AWS::CodeDeploy::DeploymentGroup', {
      ApplicationName: 'upshift-storefront',
      DeploymentGroupName: 'storefront-staging',
      ECSServices: [{ ClusterName: 'web', ServiceName: 'storefront' }],
      LoadBalancerInfo: {
        TargetGroupPairInfoList: [
          Match.objectLike({ TargetGroups: [{ Name: 'storefront-blue' }, { Name: 'storefront-green' }] }),
        ],
      },
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: 'storefront-staging-error-rate' }] },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']),
      },
    });
  });

  it('gives the deploy function CodeDeploy rights on its deployment groups only', () => {
    const statements = Object.values(stateless.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    const create = statements.find((s) => s.Action === 'codedeploy:CreateDeployment');
    const resources = JSON.stringify(create?.Resource);
    expect(resources).toContain('deploymentgroup:upshift-checkout/checkout-staging');
    expect(resources).not.toContain('deploymentgroup:*');
    const policies = JSON.stringify(stateless.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('"dynamodb:*"');
    expect(policies).not.toContain('"codedeploy:*"');
  });
});
