import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PipelineFunctions } from '../../infra/pipeline/functions';
import { seedCatalog } from '../../infra/pipeline/seeding';
import { actionsOf, bareStack, lambdaCatalog } from '../support/pipeline-parts';

describe('seedCatalog (infra/pipeline/seeding.ts)', () => {
  it('seeds the catalog from nested stacks under one role named after the stack, which may only write items to the table', () => {
    // Arrange
    const { stack, scope, table, bus } = bareStack();
    const builder = new PipelineFunctions(scope, { table, bus });
    // Act
    const seed = seedCatalog(scope, table, lambdaCatalog(['alpha', 'beta']), (name, entry) =>
      builder.addFunction(name, entry),
    );
    // Assert
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'Parts-catalog-seed' });
    expect(seed.stacks.map((s) => s.node.id)).toEqual(['Seed1']);
    template.resourceCountIs('AWS::CloudFormation::Stack', 1);
    expect(actionsOf(stack, seed.role)).toEqual(['dynamodb:BatchWriteItem']);
    // The items: a custom resource in the nested stack writes both components.
    const nested = JSON.stringify(Template.fromStack(seed.stacks[0] as never).toJSON());
    expect(nested).toContain('alpha');
    expect(nested).toContain('beta');
  });
});
