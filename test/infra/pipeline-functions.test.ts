import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { functionTags } from '../../infra/function-tags';
import { helpers, PipelineFunctions, steps } from '../../infra/pipeline/functions';
import { actionsOf, bareStack, statementsOf } from '../support/pipeline-parts';

function build() {
  const parts = bareStack();
  const functions = new PipelineFunctions(parts.scope, {
    table: parts.table,
    bus: parts.bus,
    pollSeconds: 5,
  });
  return { ...parts, functions };
}

describe('PipelineFunctions (infra/pipeline/functions.ts)', () => {
  it('makes one function per step and helper, each Node 24 on arm64 with 512 MB, traced, tagged with its entry', () => {
    // Arrange
    const { stack, functions } = build();
    // Act
    const template = Template.fromStack(stack);
    // Assert
    const names = [...Object.keys(steps), ...Object.keys(helpers)];
    expect(Object.keys(functions.byName).sort()).toEqual([...names].sort());
    template.resourceCountIs('AWS::Lambda::Function', names.length);
    for (const [name, { entry }] of Object.entries({ ...steps, ...helpers })) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: 60,
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: Match.objectLike({ UPSHIFT_POLL_SECONDS: '5', UPSHIFT_LOG_LEVEL: 'info' }),
        },
        // CDK sorts tags by key.
        Tags: Match.arrayWith(
          [
            { Key: functionTags.name, Value: name },
            { Key: functionTags.entry, Value: entry },
          ].sort((a, b) => a.Key.localeCompare(b.Key)),
        ),
      });
    }
  });

  it('gives each function its own log group, kept a month, and a role that writes only there', () => {
    // Arrange
    const { stack, functions } = build();
    // Act
    const template = Template.fromStack(stack);
    // Assert
    template.resourceCountIs('AWS::Logs::LogGroup', Object.keys(functions.byName).length);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const logs = statementsOf(stack, functions.byName.Decide.role as never).find(
      (s) => JSON.stringify(s.Action) === JSON.stringify(['logs:CreateLogStream', 'logs:PutLogEvents']),
    );
    expect(JSON.stringify(logs?.Resource)).toContain('DecideLogs');
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('grants each function the table actions of its step, the index only to those that list, and PutEvents only to those that publish', () => {
    // Arrange
    const { stack, functions } = build();
    const fns = functions.byName;
    // Act
    const actions = (name: keyof typeof fns) => actionsOf(stack, fns[name].role as never);
    // Assert
    expect(actions('Verify').filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(actions('StartBake')).toContain('dynamodb:BatchWriteItem');
    const queriesIndex = (name: keyof typeof fns) =>
      statementsOf(stack, fns[name].role as never).some((s) =>
        JSON.stringify(s.Resource).includes('/index/'),
      );
    expect(
      Object.keys(fns)
        .filter((n) => queriesIndex(n as keyof typeof fns))
        .sort(),
    ).toEqual(['ExecutionEnded', 'Intake', 'Reconcile']);
    const publishes = Object.keys(fns).filter((n) =>
      actions(n as keyof typeof fns).includes('events:PutEvents'),
    );
    expect(publishes.sort()).toEqual(['Decide', 'ExecutionEnded', 'Intake', 'Record', 'RequestApproval']);
  });

  it('adds a function of your own with the same options, environment and tags', () => {
    // Arrange
    const { stack, functions } = build();
    // Act
    const fn = functions.addFunction('AuditTrail', 'functions/reconcile/handler.ts');
    // Assert
    expect(fn.node.path).toBe('Parts/Pipeline/AuditTrail');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Environment: { Variables: Match.objectLike({ UPSHIFT_EVENT_BUS_NAME: Match.anyValue() }) },
      Tags: Match.arrayWith([{ Key: functionTags.name, Value: 'AuditTrail' }]),
    });
  });
});
