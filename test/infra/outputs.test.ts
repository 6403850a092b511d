import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackOutputNames } from '../../cli/aws/stack';
import { buildApp } from '../../infra/app';

let stateful: Template;
let stateless: Template;

beforeAll(() => {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], 'upshift:catalog': 'catalog/demo.catalog.json' },
  });
  const built = buildApp(app);
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
});

/** The outputs of a template that are not CDK's own cross-stack exports. */
function plainOutputs(template: Template): Record<string, { Value: unknown; Export?: unknown }> {
  const all = template.toJSON().Outputs as Record<string, { Value: unknown; Export?: unknown }>;
  return Object.fromEntries(Object.entries(all ?? {}).filter(([id]) => !id.startsWith('ExportsOutput')));
}

describe('stack outputs for upshift --stack', () => {
  it('the stateless stack names the CLI API, the console, the table, the bus and the state machine', () => {
    // Act
    const outputs = plainOutputs(stateless);
    // Assess
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'CliApiUrl',
        'ConsoleUrl',
        'EventBusName',
        'StateMachineArn',
        'TableName',
        // Self-monitoring (infra/monitoring.ts)
        'OperationsTopicArn',
        'DashboardName',
        'EventArchiveArn',
      ].sort(),
    );
    for (const name of Object.values(stackOutputNames)) expect(outputs).toHaveProperty(name);
    const cliApiId = Object.keys(stateless.findResources('AWS::ApiGatewayV2::Api')).find((id) =>
      id.includes('CliApi'),
    );
    expect(JSON.stringify(outputs.CliApiUrl?.Value)).toContain(`"${cliApiId}"`);
    expect(JSON.stringify(outputs.StateMachineArn?.Value)).toContain('UpgradeStateMachine');
    for (const output of Object.values(outputs)) expect(output.Export).toBeUndefined();
  });

  it('the stateful stack names its table and bus, without exports', () => {
    // Act
    const outputs = plainOutputs(stateful);
    // Assess
    expect(Object.keys(outputs).sort()).toEqual(['EventBusName', 'TableName']);
    expect(outputs.TableName?.Value).toEqual({ Ref: expect.stringMatching(/^Table/) });
    expect(outputs.EventBusName?.Value).toEqual({ Ref: expect.stringMatching(/^Bus/) });
    for (const output of Object.values(outputs)) expect(output.Export).toBeUndefined();
  });
});
