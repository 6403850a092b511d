import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import demoCatalog from '../../catalog/demo.catalog.json';
import { type Catalog, parseCatalog } from '../../shared/domain/catalog';

/**
 * A bare stack for one part of the pipeline (infra/pipeline/*): a table, a bus and the scope the
 * part adds its resources to, with asset bundling skipped (the assertions read the template).
 */
export function bareStack() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Parts', { env: { account: '111122223333', region: 'us-east-1' } });
  const table = new dynamodb.TableV2(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const bus = new events.EventBus(stack, 'Bus', { eventBusName: 'upshift' });
  const scope = new Construct(stack, 'Pipeline');
  return { app, stack, table, bus, scope };
}

/**
 * Lambda components cloned from the demo's checkout (its alarms included), one environment
 * (staging) each, each its own function and alias.
 */
export function lambdaCatalog(names: string[]): Catalog {
  const checkout = demoCatalog.components.checkout;
  const components: Record<string, unknown> = {};
  for (const name of names) {
    const target = { type: 'lambda', functionName: name, alias: 'staging' };
    components[name] = {
      ...structuredClone(checkout),
      target,
      environments: {
        staging: {
          baseline: {
            version: '1.0.0',
            artifact: { type: 'lambda', functionName: name, functionVersion: '1' },
          },
          target,
        },
      },
    };
  }
  return parseCatalog({ components, policies: demoCatalog.policies });
}

/** Every IAM action the inline and managed policies attached to `role` allow, with its resources. */
export interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

export function statementsOf(stack: Stack, role: iam.IRole): Statement[] {
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const roleId = stack.resolve((role.node.defaultChild as unknown as { ref: string }).ref) as { Ref: string };
  const statements: Statement[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = (resource.Properties.Roles ?? []) as { Ref?: string }[];
    if (!roles.some((r) => r.Ref === roleId.Ref)) continue;
    const document = resource.Properties.PolicyDocument as { Statement: Statement[] };
    statements.push(...document.Statement);
  }
  return statements;
}

/** The actions of `statementsOf`, flattened and sorted. */
export function actionsOf(stack: Stack, role: iam.IRole): string[] {
  return statementsOf(stack, role)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .sort();
}
