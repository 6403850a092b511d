import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { evidenceBucket } from '../../infra/pipeline/evidence';
import { PipelineFunctions } from '../../infra/pipeline/functions';
import { acknowledgePipelineFindings } from '../../infra/pipeline/nag';
import { PipelineRules } from '../../infra/pipeline/rules';
import { seedCatalog } from '../../infra/pipeline/seeding';
import { UpgradeStateMachine } from '../../infra/pipeline/state-machine';
import { PipelineTargets } from '../../infra/pipeline/targets';
import { bareStack, lambdaCatalog } from '../support/pipeline-parts';

/** All parts of the pipeline in a bare stack, with cdk-nag's AwsSolutions checks on synth. */
function build(acknowledge: boolean) {
  const parts = bareStack();
  // A fresh stack's table and bus draw their own findings; those are not the pipeline's.
  Validations.of(parts.table).acknowledge({ id: 'AwsSolutions-DDB3', reason: 'test table' });
  const catalog = lambdaCatalog(['alpha']);
  const builder = new PipelineFunctions(parts.scope, { table: parts.table, bus: parts.bus });
  const fns = builder.byName;
  const targets = new PipelineTargets(parts.scope, fns, { catalog });
  const bucket = evidenceBucket(parts.scope, fns.Verify);
  const { stateMachine } = new UpgradeStateMachine(parts.scope, fns);
  const { deadLetters } = new PipelineRules(parts.scope, { bus: parts.bus, stateMachine, functions: fns });
  const seed = seedCatalog(parts.scope, parts.table, catalog, (name, entry) =>
    builder.addFunction(name, entry),
  );
  if (acknowledge) {
    acknowledgePipelineFindings(parts.scope, {
      functions: fns,
      evidenceBucket: bucket,
      stateMachine,
      deadLetters,
      targets,
      seed,
    });
  }
  Validations.of(parts.app).addPlugins(new AwsSolutionsChecks(parts.app));
  return parts.app;
}

describe('acknowledgePipelineFindings (infra/pipeline/nag.ts)', () => {
  it('accepts every AwsSolutions finding of the pipeline with a reason, so synth passes', () => {
    expect(() => build(true).synth()).not.toThrow();
  });

  it('is what makes synth pass: without it, the findings it accepts fail synth', () => {
    let message = '';
    try {
      build(false).synth();
    } catch (error) {
      message = String(error);
    }
    for (const rule of ['AwsSolutions-SQS3', 'AwsSolutions-S1', 'AwsSolutions-IAM4', 'AwsSolutions-IAM5']) {
      expect(message).toContain(rule);
    }
  });
});
