import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { PipelineFunctions } from '../../infra/pipeline/functions';
import { PipelineTargets } from '../../infra/pipeline/targets';
import { type Catalog, parseCatalog } from '../../shared/domain/catalog';
import { codeDeployApplication, codeDeployGroup } from '../../shared/domain/names';
import { actionsOf, bareStack, lambdaCatalog, statementsOf } from '../support/pipeline-parts';

function build(catalog: Catalog) {
  const parts = bareStack();
  const functions = new PipelineFunctions(parts.scope, { table: parts.table, bus: parts.bus });
  const targets = new PipelineTargets(parts.scope, functions.byName, { catalog });
  return { ...parts, fns: functions.byName, targets };
}

/** The resources of every statement of `role` that allows `action`, as JSON. */
function resourcesFor(stack: Parameters<typeof statementsOf>[0], role: unknown, action: string): string {
  return JSON.stringify(
    statementsOf(stack, role as never)
      .filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action))
      .map((s) => s.Resource),
  );
}

describe('PipelineTargets (infra/pipeline/targets.ts)', () => {
  it("puts each component's application, groups and alarms in nested stacks, each after the service role its groups name", () => {
    // Arrange
    const { stack, targets } = build(lambdaCatalog(['alpha', 'beta', 'gamma']));
    // Act
    const template = Template.fromStack(stack);
    // Assert
    expect(targets.componentStacks.length).toBeGreaterThan(0);
    template.resourceCountIs('AWS::CloudFormation::Stack', targets.componentStacks.length);
    const nested = targets.componentStacks.map((s) => Template.fromStack(s));
    const applications = nested.flatMap((t) =>
      Object.values(t.findResources('AWS::CodeDeploy::Application')).map((r) => r.Properties.ApplicationName),
    );
    expect(applications.sort()).toEqual(['upshift-alpha', 'upshift-beta', 'upshift-gamma']);
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'Parts-codedeploy-lambda',
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited',
            ],
          ],
        },
      ],
    });
    expect(targets.serviceRoles.ecs).toBeUndefined();
    const serviceRoleId = stack.getLogicalId(targets.serviceRoles.lambda?.node.defaultChild as never);
    for (const resource of Object.values(template.findResources('AWS::CloudFormation::Stack'))) {
      expect(resource.DependsOn).toContain(serviceRoleId);
    }
  });

  it('grants CodeDeploy on the exact groups and applications and DescribeAlarms on the exact alarms while the lists are short', () => {
    // Arrange
    const { stack, fns, targets } = build(lambdaCatalog(['alpha', 'beta']));
    // Act
    const create = resourcesFor(stack, fns.Deploy.role, 'codedeploy:CreateDeployment');
    const describe = resourcesFor(stack, fns.Decide.role, 'cloudwatch:DescribeAlarms');
    // Assert
    expect(targets.groupGrant.pattern).toBeUndefined();
    expect(create).toContain(
      `deploymentgroup:${codeDeployApplication('alpha')}/${codeDeployGroup('alpha', 'staging')}`,
    );
    expect(create).toContain(
      `deploymentgroup:${codeDeployApplication('beta')}/${codeDeployGroup('beta', 'staging')}`,
    );
    expect(resourcesFor(stack, fns.Deploy.role, 'codedeploy:RegisterApplicationRevision')).toContain(
      `application:${codeDeployApplication('alpha')}`,
    );
    expect(describe).toContain(':alarm:');
    expect(describe).not.toContain('"*"');
    expect(describe).not.toContain('alarm:*');
    // Only the functions that act on deployments or alarms are granted them.
    expect(actionsOf(stack, fns.Lock.role as never).some((a) => a.startsWith('codedeploy:'))).toBe(false);
    expect(actionsOf(stack, fns.Record.role as never)).not.toContain('cloudwatch:DescribeAlarms');
  });

  it("lets Verify invoke only the probed functions' published versions", () => {
    // Arrange
    const { stack, fns, targets } = build(lambdaCatalog(['alpha', 'beta']));
    // Act
    const invoke = resourcesFor(stack, fns.Verify.role, 'lambda:InvokeFunction');
    // Assert
    expect(targets.probePolicies.holders.flatMap((h) => h.functions).sort()).toEqual([
      'function:alpha:*',
      'function:beta:*',
    ]);
    expect(invoke).toContain(':function:alpha:*');
    expect(invoke).not.toContain('"*"');
  });

  it('switches to the naming pattern past the exact-ARN budget, and covers exactly the Upshift groups', () => {
    // Arrange
    const names = Array.from({ length: 40 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    // Act
    const { stack, fns, targets } = build(lambdaCatalog(names));
    // Assert
    expect(targets.groupGrant.pattern).toBe(`deploymentgroup:${codeDeployApplication('*')}/*`);
    expect(targets.applicationGrant.pattern).toBe(`application:${codeDeployApplication('*')}`);
    expect(targets.groupGrantees.has(fns.Deploy.role as never)).toBe(true);
    expect(resourcesFor(stack, fns.Deploy.role, 'codedeploy:CreateDeployment')).toContain(
      `deploymentgroup:${codeDeployApplication('*')}/*`,
    );
  });

  it('adds the ECS service role and the task definition grants only when a component deploys to ECS', () => {
    // Arrange
    const catalog = parseCatalog({
      components: { storefront: demoCatalog.components.storefront },
      policies: demoCatalog.policies,
    });
    // Act
    const { stack, fns, targets } = build(catalog);
    // Assert
    expect(targets.serviceRoles.ecs).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', { RoleName: 'Parts-codedeploy-ecs' });
    const passRole = statementsOf(stack, fns.Deploy.role as never).find((s) => s.Action === 'iam:PassRole');
    expect(passRole?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    expect(actionsOf(stack, fns.Deploy.role as never)).toContain('ecs:RegisterTaskDefinition');
  });

  it('refuses a managed-policy quota that is not a positive integer, naming the context key', () => {
    // Arrange
    const parts = bareStack();
    parts.scope.node.setContext('upshift:managedPoliciesPerRole', 'ten');
    const functions = new PipelineFunctions(parts.scope, { table: parts.table, bus: parts.bus });
    // Act
    const act = () =>
      new PipelineTargets(parts.scope, functions.byName, { catalog: lambdaCatalog(['alpha']) });
    // Assert
    expect(act).toThrow(/context upshift:managedPoliciesPerRole must be a positive integer, not ten/);
  });
});
