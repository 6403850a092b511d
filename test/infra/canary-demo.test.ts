import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCanaryDemo } from '../../infra/examples/canary-demo/app';
import { handlerSource } from '../../infra/examples/canary-demo/sample-function';

let built: ReturnType<typeof buildCanaryDemo>;
let target: Template;
let synthError: unknown;

beforeAll(() => {
  // Skip bundling the pipeline's functions: the assertions read the templates.
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
    },
  });
  built = buildCanaryDemo(app);
  target = Template.fromStack(built.sample);
  try {
    // cdk-nag's AwsSolutions checks run as a validation plugin: any unacknowledged finding throws.
    app.synth();
  } catch (error) {
    synthError = error;
  }
});

describe('the canary demo (infra/examples/canary-demo)', () => {
  it('synthesizes offline and passes cdk-nag AwsSolutions', () => {
    expect(synthError).toBeUndefined();
    expect(built.app.node.children.filter((c) => Stack.isStack(c)).map((c) => c.node.id)).toEqual([
      'UpshiftDemoTarget',
      'UpshiftDemoStateful',
      'UpshiftDemo',
    ]);
  });

  it("deploys the sample function the catalog's component names, with version 1 behind the alias", () => {
    const component = built.catalog.components.hello;
    expect(component?.target).toEqual({ type: 'lambda', functionName: 'upshift-demo-hello', alias: 'live' });
    expect(component?.environments.demo?.baseline.artifact).toEqual({
      type: 'lambda',
      functionName: 'upshift-demo-hello',
      functionVersion: '1',
    });
    target.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'upshift-demo-hello',
      Code: { ZipFile: handlerSource(1) },
    });
    const fnId = built.sample.getLogicalId(built.sample.function.node.defaultChild as never);
    const versionId = built.sample.getLogicalId(built.sample.version1.node.defaultChild as never);
    target.hasResourceProperties('AWS::Lambda::Version', { FunctionName: { Ref: fnId } });
    target.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
    });
  });

  it('publishes version 2, with other code, after version 1, in one UpdateFunctionCode call with Publish', () => {
    const [id, resource] = Object.entries(target.findResources('Custom::AWS'))[0] ?? [];
    expect(id).toBeDefined();
    const create = JSON.stringify(resource?.Properties.Create);
    expect(create).toContain('"action\\":\\"UpdateFunctionCode\\"');
    expect(create).toContain('"Publish\\":true');
    expect(create).toContain('"service\\":\\"Lambda\\"');
    // Changed code (a new asset key) updates the resource: Update makes the same call, and the
    // published version's number is the physical id, so the new version replaces the old output.
    expect(resource?.Properties.Update).toEqual(resource?.Properties.Create);
    expect(create).toContain('"physicalResourceId\\":{\\"responsePath\\":\\"Version\\"}');
    const versionId = built.sample.getLogicalId(built.sample.version1.node.defaultChild as never);
    expect(resource?.DependsOn).toContain(versionId);
    expect(handlerSource(2)).not.toBe(handlerSource(1));
    // Its provider may update this function's code and read the asset, nothing else.
    const policies = Object.values(target.findResources('AWS::IAM::Policy')).map((p) =>
      JSON.stringify(p.Properties.PolicyDocument),
    );
    const provider = policies.find((p) => p.includes('lambda:UpdateFunctionCode'));
    expect(provider).toContain('s3:GetObject');
    expect(provider).not.toContain('"Resource":"*"');
  });

  it('gives the pipeline the outputs `upshift --stack UpshiftDemo` reads, and a table that destroy removes', () => {
    const stateless = Template.fromStack(built.stateless);
    for (const output of ['TableName', 'EventBusName', 'StateMachineArn']) {
      expect(Object.keys(stateless.findOutputs(output))).toEqual([output]);
    }
    const stateful = Template.fromStack(built.stateful);
    stateful.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    const [table] = Object.values(stateful.findResources('AWS::DynamoDB::GlobalTable'));
    expect(table?.Properties.DeletionProtectionEnabled ?? false).toBe(false);
    stateful.hasResourceProperties('AWS::Events::EventBus', { Name: 'upshift-demo' });
  });
});
