import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { PipelineFunctions } from '../../infra/pipeline/functions';
import { PipelineRules, toCdkPattern } from '../../infra/pipeline/rules';
import { UpgradeStateMachine } from '../../infra/pipeline/state-machine';
import { rulePatterns } from '../../shared/domain/patterns';
import { bareStack } from '../support/pipeline-parts';

let template: Template;
let stack: ReturnType<typeof bareStack>['stack'];
let rules: PipelineRules;
let logicalIds: { bus: string; stateMachine: string; dlq: string; reconcile: string };

beforeAll(() => {
  const parts = bareStack();
  const functions = new PipelineFunctions(parts.scope, { table: parts.table, bus: parts.bus });
  const { stateMachine } = new UpgradeStateMachine(parts.scope, functions.byName);
  rules = new PipelineRules(parts.scope, { bus: parts.bus, stateMachine, functions: functions.byName });
  stack = parts.stack;
  template = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  logicalIds = {
    bus: id(parts.bus),
    stateMachine: id(stateMachine),
    dlq: id(rules.deadLetters),
    reconcile: id(functions.byName.Reconcile),
  };
});

/** The rule whose description starts with `text`. */
function rule(text: string) {
  const found = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
    String(r.Properties.Description).startsWith(text),
  );
  expect(found).toHaveLength(1);
  return found[0]?.Properties as Record<string, never>;
}

describe('PipelineRules (infra/pipeline/rules.ts)', () => {
  it('starts the state machine from the Upshift bus on a published version or a rollback request', () => {
    for (const [text, pattern] of [
      ['CI publishes a version', rulePatterns.versionPublished],
      ['On-call asks for a rollback', rulePatterns.rollbackRequested],
    ] as const) {
      const props = rule(text);
      expect(props.EventBusName).toEqual({ Ref: logicalIds.bus });
      expect(props.EventPattern).toEqual(pattern);
      expect(JSON.stringify(props.Targets)).toContain(logicalIds.stateMachine);
    }
  });

  it('listens on the default bus, where AWS services publish, for ECR pushes, ended deployments, alarms and ended executions', () => {
    for (const text of [
      'An image pushed to ECR',
      'A CodeDeploy deployment ended',
      'An alarm entered ALARM',
      'An upgrade execution failed',
    ]) {
      expect(rule(text).EventBusName).toBe('default');
    }
    expect(rule('An image pushed to ECR').EventPattern).toEqual(rulePatterns.ecrImagePush);
    // Only this stack's executions.
    expect(JSON.stringify(rule('An upgrade execution failed').EventPattern)).toContain(
      logicalIds.stateMachine,
    );
  });

  it('runs the reconciler every minute, with two retries', () => {
    const props = rule('Reconcile:');
    expect(props.ScheduleExpression).toBe('rate(1 minute)');
    expect(JSON.stringify(props.Targets)).toContain(logicalIds.reconcile);
    expect(props.Targets).toEqual([expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 2 } })]);
  });

  it('gives every target of every rule the same encrypted dead-letter queue, kept 14 days', () => {
    const all = Object.values(template.findResources('AWS::Events::Rule'));
    expect(all).toHaveLength(7);
    for (const r of all) {
      for (const target of r.Properties.Targets) {
        expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [logicalIds.dlq, 'Arn'] } });
      }
    }
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
    expect(rules.deadLetters.node.path).toBe('Parts/Pipeline/RuleDeadLetters');
  });

  it("maps our EventBridge JSON patterns to CDK's pattern keys", () => {
    expect(toCdkPattern({ source: ['a'], 'detail-type': ['b'], detail: { c: [1] }, account: ['1'] })).toEqual(
      {
        source: ['a'],
        detailType: ['b'],
        detail: { c: [1] },
        account: ['1'],
      },
    );
  });
});
