import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { PipelineFunctions } from '../../infra/pipeline/functions';
import { PipelineRules } from '../../infra/pipeline/rules';
import { UpgradeStateMachine } from '../../infra/pipeline/state-machine';
import { hasPromotion, PromotionWaves } from '../../infra/waves';
import { parseCatalog } from '../../shared/domain/catalog';
import { rulePatterns } from '../../shared/domain/patterns';
import { actionsOf, bareStack, statementsOf } from '../support/pipeline-parts';

/** The functions, the rules (for their dead-letter queue) and the waves in a bare stack. */
function build() {
  const parts = bareStack();
  const builder = new PipelineFunctions(parts.scope, { table: parts.table, bus: parts.bus });
  const fns = builder.byName;
  const { stateMachine } = new UpgradeStateMachine(parts.scope, fns);
  const { deadLetters } = new PipelineRules(parts.scope, { bus: parts.bus, stateMachine, functions: fns });
  const waves = new PromotionWaves(parts.scope, 'PromotionWaves', {
    pipeline: { addFunction: (name, entry) => builder.addFunction(name, entry) },
    table: parts.table,
    bus: parts.bus,
    reconciler: fns.Reconcile,
    deadLetters,
  });
  const id = (c: { node: { defaultChild?: unknown } }) =>
    parts.stack.getLogicalId(c.node.defaultChild as never);
  return { ...parts, fns, waves, deadLetters, id };
}

describe('PromotionWaves (infra/waves.ts)', () => {
  it('the Promote function may read and update the table and put events on the Upshift bus, nothing more', () => {
    // Prepare
    const { stack, waves, table, bus, id } = build();
    // Act
    const actions = actionsOf(stack, waves.promote.role as never).filter(
      (a) => !a.startsWith('logs:') && !a.startsWith('xray:'),
    );
    const statements = statementsOf(stack, waves.promote.role as never);
    // Assess
    expect(actions).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    const dynamo = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo?.Resource).toEqual({ 'Fn::GetAtt': [id(table), 'Arn'] });
    const put = statements.find((s) => JSON.stringify(s.Action).includes('events:PutEvents'));
    expect(put?.Resource).toEqual({ 'Fn::GetAtt': [id(bus), 'Arn'] });
  });

  it("a rule on the Upshift bus sends Upshift's upgrade events to Promote, with retries and the dead-letter queue", () => {
    // Prepare
    const { stack, waves, bus, deadLetters, id } = build();
    // Act
    const template = Template.fromStack(stack);
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: id(bus) },
      EventPattern: rulePatterns.promotionInputs,
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [id(waves.promote), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(deadLetters), 'Arn'] } },
        },
      ],
    });
    // And Version Published, for the later stages' artifacts the starting event names
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: id(bus) },
      EventPattern: rulePatterns.versionPublished,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id(waves.promote), 'Arn'] } })],
    });
    expect(rulePatterns.promotionInputs['detail-type']).toContain('Upgrade Completed');
    expect(rulePatterns.promotionInputs.source).toEqual(['upshift']);
  });

  it("Promote's invocations that failed after Lambda's two retries go to the dead-letter queue", () => {
    // Prepare
    const { stack, waves, deadLetters, id } = build();
    // Act
    const template = Template.fromStack(stack);
    const send = statementsOf(stack, waves.promote.role as never).find((s) =>
      JSON.stringify(s.Action).includes('sqs:SendMessage'),
    );
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(waves.promote) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(deadLetters), 'Arn'] } } },
    });
    expect(send?.Resource).toEqual({ 'Fn::GetAtt': [id(deadLetters), 'Arn'] });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('the reconciler, which ends soaks, may put events on the Upshift bus', () => {
    // Prepare
    const { stack, fns } = build();
    // Act / Assess
    expect(actionsOf(stack, fns.Reconcile.role as never)).toContain('events:PutEvents');
  });

  it('passes cdk-nag AwsSolutions with the functions construct acknowledgements only', () => {
    // Prepare
    const { app, table, stack } = build();
    Validations.of(table).acknowledge({ id: 'AwsSolutions-DDB3', reason: 'test table' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Act
    const findings: string[] = [];
    try {
      app.synth();
    } catch (error) {
      findings.push(String((error as Error).message));
    }
    // Assess: no finding names the waves' resources
    expect(findings.join('\n')).not.toMatch(/PromotionWaves|Promote/);
    expect(stack.node.tryFindChild('Pipeline')).toBeDefined();
  });

  it('is added only when some component has a promotion policy', () => {
    // Prepare
    const withWaves = structuredClone(demoCatalog) as unknown as {
      components: Record<string, Record<string, unknown>>;
    };
    (withWaves.components.checkout as Record<string, unknown>).promotion = {};
    // Act / Assess
    expect(hasPromotion(parseCatalog(demoCatalog))).toBe(false);
    expect(hasPromotion(parseCatalog(withWaves))).toBe(true);
  });
});
