import { type CfnElement, CustomResource, NestedStack, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { keys } from '../shared/aws/dynamo-store';
import type { Catalog } from '../shared/domain/catalog';
import { iamRoleArn } from './arns';

/** The policy seeding's function (functions/seed-policies) and its custom resource type. */
export const policySeeding = {
  functionName: 'SeedPolicies',
  entry: 'functions/seed-policies/handler.ts',
  resourceType: 'Custom::UpshiftPolicies',
} as const;

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

/** One seeding call: a batch of catalog items, written on every deploy that changes it. */
interface SeedCall {
  id: string;
  call: (tableName: string) => cr.AwsSdkCall;
  /** Characters it takes in a template (escaped, Create and Update). */
  templateChars: number;
}

export interface CatalogSeedProps {
  table: dynamodb.ITableV2;
  catalog: Catalog;
  /** Makes a function of the pipeline (UpgradePipeline.addFunction): the policy seeding's. */
  addFunction: (name: string, entry: string) => lambda.Function;
}

/**
 * Writes the catalog's components and repositories to the table on every deploy
 * (BatchWriteItem, 25 items a call), and the catalog's policies through the custom resource
 * `Custom::UpshiftPolicies`, whose function (functions/seed-policies) writes a new policy version
 * (author "cdk deploy", with its diff) for each environment whose policy in the catalog changed
 * since the last deploy, and leaves the others alone, so that a policy changed with
 * `upshift policies put` stays until the catalog's own policy changes
 * (docs/decisions/0026-policies-from-deploys-and-people.md). CloudFormation sends the resource an
 * Update only when the catalog's policies changed; the function compares with what the last
 * deploy seeded anyway, so a replay (the local twin runs it on every start) writes nothing.
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
  /** The function that seeds the policies, and the custom resource that runs it on deploy. */
  readonly policySeeder: lambda.Function;
  readonly policies: CustomResource;

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
      new iam.PolicyStatement({ actions: ['dynamodb:BatchWriteItem'], resources: [table.tableArn] }),
    );
    this.policySeeder = props.addFunction(policySeeding.functionName, policySeeding.entry);
    // The live policy, its versions and the deployed catalog policy: single-item reads and
    // conditional writes (shared/usecases/seed-policies.ts).
    this.policySeeder.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [table.tableArn],
      }),
    );
    const provider = new cr.Provider(scope, 'PolicySeedProvider', {
      onEventHandler: this.policySeeder,
      // Its own log group in the template, deleted with the stack (not one Lambda makes and leaves).
      logGroup: new logs.LogGroup(scope, 'PolicySeedProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.policies = new CustomResource(scope, 'CatalogPolicies', {
      serviceToken: provider.serviceToken,
      resourceType: policySeeding.resourceType,
      // CloudFormation passes properties as strings: the policies travel as one JSON document.
      properties: { PoliciesJson: JSON.stringify(catalog.policies) },
    });
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's custom resource provider framework writes only its own logs with it.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(this.policySeeder.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          "The provider framework invokes the seeding function by any version (CDK's grant); it invokes nothing else.",
      },
    );
    const calls = batchCalls(catalog);
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
