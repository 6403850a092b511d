import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { policySeeding } from '../../infra/catalog-seed';
import { functionTags } from '../../infra/function-tags';
import { PipelineFunctions } from '../../infra/pipeline/functions';
import { seedCatalog } from '../../infra/pipeline/seeding';
import { actionsOf, bareStack, lambdaCatalog, statementsOf } from '../support/pipeline-parts';

let template: Template;
let parts: ReturnType<typeof bareStack>;
let seed: ReturnType<typeof seedCatalog>;
const catalog = lambdaCatalog(['alpha']);

beforeAll(() => {
  parts = bareStack();
  const builder = new PipelineFunctions(parts.scope, { table: parts.table, bus: parts.bus });
  seed = seedCatalog(parts.scope, parts.table, catalog, (name, entry) => builder.addFunction(name, entry));
  template = Template.fromStack(parts.stack);
});

describe('the policy seeding on deploy (infra/catalog-seed.ts, decision 0026)', () => {
  it('one Custom::UpshiftPolicies resource carries the catalog’s policies as JSON to the provider', () => {
    // Act
    const resources = template.findResources(policySeeding.resourceType);
    // Assess
    const [resource] = Object.values(resources) as { Properties: Record<string, unknown> }[];
    expect(Object.keys(resources)).toHaveLength(1);
    expect(JSON.parse(String(resource?.Properties.PoliciesJson))).toEqual(
      JSON.parse(JSON.stringify(catalog.policies)),
    );
    expect(JSON.stringify(resource?.Properties.ServiceToken)).toContain('PolicySeedProviderframeworkonEvent');
  });

  it('the provider calls the SeedPolicies function, a pipeline function tagged with its entry', () => {
    // Assess
    const providers = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: {} } } },
    });
    const [framework] = Object.values(providers) as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    }[];
    // The framework logs to a group of the template (deleted with the stack), not one Lambda makes.
    expect(
      JSON.stringify((framework?.Properties as Record<string, unknown> | undefined)?.LoggingConfig),
    ).toContain('PolicySeedProviderLogs');
    expect(JSON.stringify(framework?.Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN)).toContain(
      'SeedPolicies',
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: [
        { Key: functionTags.entry, Value: policySeeding.entry },
        { Key: functionTags.name, Value: policySeeding.functionName },
      ],
    });
  });

  it('the function may read and conditionally write single items of the table, and nothing else there', () => {
    // Act
    const actions = actionsOf(parts.stack, seed.policySeeder.role as never).filter((a) =>
      a.startsWith('dynamodb:'),
    );
    const tableStatements = statementsOf(parts.stack, seed.policySeeder.role as never).filter((s) =>
      JSON.stringify(s.Action).includes('dynamodb:'),
    );
    // Assess
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    for (const s of tableStatements) expect(JSON.stringify(s.Resource)).not.toContain('index');
  });

  it('no policy item is written by an AwsCustomResource any more (only component batches)', () => {
    // Act
    const nested = seed.stacks.map((s) => JSON.stringify(Template.fromStack(s as never).toJSON()));
    // Assess
    for (const text of nested) {
      expect(text).not.toContain('POLICY#');
      expect(text).not.toContain('\\"putItem\\"');
    }
    expect(nested.join('')).toContain('batchWriteItem');
  });
});
