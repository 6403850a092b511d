import { NestedStack, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { keys } from '../shared/aws/dynamo-store';
import type { Catalog } from '../shared/domain/catalog';
import { iamRoleArn } from './arns';

/** BatchWriteItem takes at most 25 put requests. */
export const BATCH_ITEMS = 25;

/**
 * Characters of one seeding call's items (as JSON). CloudFormation sends a custom resource its
 * properties, which hold the call twice (Create and Update) as an escaped JSON string (about 1.2
 * times as long), and on an update the old properties too: four copies, about 190 KB at this
 * size, inside the 256 KB a Lambda function takes asynchronously. About 20 of the demo's
 * checkout components fit; smaller items fill the batch's 25.
 */
export const CALL_CHARS = 40_000;

/**
 * Characters of seeding calls in one nested stack's template, as they appear there (JSON inside a
 * JSON string, twice). CloudFormation takes templates of at most 1 MB; the rest is headroom for
 * the provider function and the template's own structure.
 */
export const SEED_STACK_CHARS = 800_000;

type Item = Record<string, unknown>;

/** One seeding call: a batch written always, or a policy item written only if absent. */
interface SeedCall {
  id: string;
  call: (tableName: string) => cr.AwsSdkCall;
  /** Characters it takes in a template (escaped, Create and Update). */
  templateChars: number;
}

export interface CatalogSeedProps {
  table: dynamodb.ITableV2;
  catalog: Catalog;
}

/**
 * Writes the catalog's components and repositories to the table on every deploy
 * (BatchWriteItem, 25 items a call), and each environment's policy once (version 1, a PutItem
 * that only writes when the item is absent): after that, policies change through
 * `upshift policies put`, which keeps their history.
 *
 * The calls live in nested stacks (`Seed1`, `Seed2`, ...) of at most SEED_STACK_CHARS, because a
 * thousand components' items exceed the 1 MB a template may hold. Each stack's calls run one after
 * the other, and each stack after the previous one: all items share the partition `CATALOG`
 * (1,000 write units a second), and BatchWriteItem reports throttled items as unprocessed instead
 * of failing, which a custom resource would not notice. All providers run with one role that may
 * only BatchWriteItem and PutItem on the table.
 */
export class CatalogSeed {
  readonly role: iam.Role;
  readonly stacks: NestedStack[] = [];

  constructor(scope: Construct, roleName: string, props: CatalogSeedProps) {
    const { table, catalog } = props;
    this.role = new iam.Role(scope, 'CatalogSeedRole', {
      roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'),
      ],
      description: 'Upshift: the AwsCustomResource providers that seed the catalog into the table',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
        resources: [table.tableArn],
      }),
    );
    const calls = [...policyCalls(catalog), ...batchCalls(catalog)];
    const groups: SeedCall[][] = [];
    let used = Number.POSITIVE_INFINITY;
    for (const call of calls) {
      if (used + call.templateChars > SEED_STACK_CHARS) {
        groups.push([]);
        used = 0;
      }
      groups.at(-1)?.push(call);
      used += call.templateChars;
    }
    for (const [i, group] of groups.entries()) {
      const stack = new NestedStack(scope, `Seed${i + 1}`, {
        description: `Upshift: seeds ${group.length} call(s) of the catalog into the table`,
      });
      // The role is in the parent; the provider names it by the ARN its name gives.
      stack.node.addDependency(this.role);
      const previous = this.stacks.at(-1);
      if (previous) stack.node.addDependency(previous);
      const role = iam.Role.fromRoleArn(stack, 'SeedRole', iamRoleArn(roleName), { mutable: false });
      const tableName = tableNameIn(stack, table);
      let before: Construct | undefined;
      for (const seed of group) {
        const call = seed.call(tableName);
        const resource = new cr.AwsCustomResource(stack, seed.id, {
          onUpdate: call,
          installLatestAwsSdk: false,
          role,
        });
        if (before) resource.node.addDependency(before);
        before = resource;
      }
      this.stacks.push(stack);
    }
  }
}

/** Each environment's policy, version 1 and current, written only if absent. */
function policyCalls(catalog: Catalog): SeedCall[] {
  const items: Item[] = [];
  for (const [environment, policy] of Object.entries(catalog.policies)) {
    const stored = { environment, version: 1, policy, updatedBy: 'cdk', updatedAt: 'deploy' };
    items.push({
      ...keys.policyVersion(environment, 1),
      ...stored,
      changes: [{ path: '(root)', after: policy }],
    });
    items.push({ ...keys.policy(environment), ...stored, gsi1pk: 'POLICIES', gsi1sk: environment });
  }
  return items.map((item, i) => {
    const Item = marshall(item);
    return {
      id: `Policy${i}`,
      call: (tableName) => ({
        service: 'DynamoDB',
        action: 'putItem',
        parameters: { TableName: tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' },
        physicalResourceId: cr.PhysicalResourceId.of(`${item.pk}/${item.sk}`),
        ignoreErrorCodesMatching: 'ConditionalCheckFailed',
      }),
      templateChars: escapedChars(Item),
    };
  });
}

/** The components and ECR repositories, in catalog order, in batches of 25 items and CALL_CHARS. */
function batchCalls(catalog: Catalog): SeedCall[] {
  const items: Item[] = [];
  for (const [name, component] of Object.entries(catalog.components)) {
    items.push(marshall({ ...keys.catalogComponent(name), component, updatedBy: 'cdk' }));
    for (const repository of component.sources.ecr?.repositories ?? []) {
      items.push(marshall({ ...keys.catalogRepository(repository), component: name }));
    }
  }
  const batches: Item[][] = [];
  let chars = 0;
  for (const item of items) {
    const size = JSON.stringify(item).length + 20;
    const last = batches.at(-1);
    if (!last || last.length >= BATCH_ITEMS || chars + size > CALL_CHARS) {
      batches.push([item]);
      chars = size;
    } else {
      last.push(item);
      chars += size;
    }
  }
  return batches.map((batch, i) => ({
    id: `Catalog${i + 1}`,
    call: (tableName) => ({
      service: 'DynamoDB',
      action: 'batchWriteItem',
      parameters: { RequestItems: { [tableName]: batch.map((Item) => ({ PutRequest: { Item } })) } },
      physicalResourceId: cr.PhysicalResourceId.of(`catalog-batch-${i + 1}`),
    }),
    templateChars: batch.reduce((sum, item) => sum + escapedChars(item), 0),
  }));
}

/** Characters a value takes as JSON inside a template's JSON string, twice (Create and Update). */
function escapedChars(value: unknown): number {
  return 2 * JSON.stringify(JSON.stringify(value)).length;
}

/**
 * The table's name as the nested stack can use it without a parameter: an import of the export
 * its own stack makes (the same export CDK makes for the functions' environment). A table in the
 * pipeline's own stack is passed as a parameter by CDK instead.
 */
function tableNameIn(stack: NestedStack, table: dynamodb.ITableV2): string {
  const owner = Stack.of(table);
  const parent = Stack.of(stack.node.scope as Construct);
  if (owner === parent || owner.nested) return table.tableName;
  return owner.exportValue(table.tableName);
}

/** Marshals a plain object into DynamoDB attribute values, for the seeding calls. */
export function marshall(value: unknown): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(value as Item)) {
    if (v !== undefined) out[k] = attribute(v);
  }
  return out;
}

function attribute(v: unknown): Item {
  if (v === null) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map(attribute) };
  return { M: marshall(v) };
}
