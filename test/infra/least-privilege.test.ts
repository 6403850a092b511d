import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';

let app: App;
let stateless: Template;
let templates: { name: string; json: string }[];

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of every identity policy in the stateless stack. */
function statements(): Statement[] {
  return Object.values(stateless.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

beforeAll(() => {
  app = new App({
    context: { 'aws:cdk:bundling-stacks': [], 'upshift:catalog': 'catalog/demo.catalog.json' },
  });
  const built = buildApp(app);
  stateless = Template.fromStack(built.stateless);
  const stacks = [
    built.stateful,
    built.stateless,
    ...built.stateless.node.findAll().filter((c): c is Stack => c instanceof Stack),
  ];
  templates = [...new Set(stacks)].map((s) => ({
    name: s.node.path,
    json: JSON.stringify(Template.fromStack(s).toJSON()),
  }));
});

describe('least privilege', () => {
  it('grants DescribeAlarms on the catalog alarms by ARN, never on "*"', () => {
    // Act
    const describe = statements().filter((s) => [s.Action].flat().includes('cloudwatch:DescribeAlarms'));
    // Assess: one alarm ARN per catalog alarm and environment (checkout: 3 × 2, pricing 1, storefront 1).
    expect(describe.length).toBeGreaterThanOrEqual(8);
    for (const statement of describe) {
      const resources = [statement.Resource].flat();
      expect(resources).not.toContain('*');
      expect(resources).toHaveLength(8);
      const text = JSON.stringify(resources);
      expect(text).toContain(':alarm:checkout-production-latency-p99');
      expect(text).toContain(':alarm:storefront-staging-error-rate');
      expect(text).toContain('"Ref":"AWS::Partition"');
    }
  });

  it("writes no ARN with a literal partition outside the ASL and the catalog's own ARNs", () => {
    // Assess: every ARN the construct makes names its partition with AWS::Partition. The state
    // machine's definition string is the ASL file verbatim (its service integrations move to
    // arn:${Partition}:states:::..., substituted when the file uses it); a catalog's listener or
    // task definition ARNs are the user's, as written.
    const catalogText = readFileSync('catalog/demo.catalog.json', 'utf8');
    for (const { name, json } of templates) {
      const withoutDefinition = json.replace(/"DefinitionString":"(?:[^"\\]|\\.)*"/g, '""');
      const literal = (withoutDefinition.match(/arn:aws[a-z-]*:[^"\\]*/g) ?? []).filter(
        (arn) => !catalogText.includes(arn),
      );
      expect({ name, literal }).toEqual({
        name,
        literal: [],
      });
    }
  });
});
