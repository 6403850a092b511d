import { Aws, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * IAM's quotas that a catalog of many components runs into (IAM and AWS STS quotas): the inline
 * policies of a role share 10,240 characters, a managed policy holds 6,144, and a role takes 10
 * managed policies (20 after a quota increase). IAM counts characters without white space.
 */
export const iamQuotas = {
  inlineCharsPerRole: 10_240,
  managedPolicyChars: 6_144,
  managedPoliciesPerRole: 10,
} as const;

/**
 * Grants that name resources one by one keep exact ARNs up to this many characters (about 20
 * deployment group ARNs): a role lists groups and applications in one or two statements, so a few
 * such lists and the role's other statements stay well inside 10,240 characters. CDK's own
 * estimate (150 characters per token ARN) then stays under the 10,000 at which it would split
 * the role's policy into managed policies by itself.
 */
export const EXACT_ARNS_BUDGET = 2_048;
const EXACT_ARNS_MAX = 20;

/** An ARN in the partition, region and account of the stack that holds `scope`, from names only. */
export function awsArn(service: string, resource: string): string {
  return `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
}

/** An IAM ARN (global: no region), from a role name. */
export function iamRoleArn(roleName: string): string {
  return `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${roleName}`;
}

/**
 * How long `awsArn(service, resource)` is once CloudFormation resolves it: the stack's own
 * partition and region when they are known at synth, else the `aws` partition and the longest
 * region name (14 characters, e.g. ap-southeast-2); an account id has 12 digits. An environment-
 * agnostic stack deployed to aws-cn or aws-us-gov has 3 or 7 more characters per ARN than
 * estimated; give such a stack its env.
 */
export function arnLength(scope: Construct, service: string, resource: string): number {
  const stack = Stack.of(scope);
  const partition = Token.isUnresolved(stack.partition) ? 'aws' : stack.partition;
  const region = Token.isUnresolved(stack.region) ? 14 : stack.region.length;
  return `arn:${partition}:${service}:`.length + region + 1 + 12 + 1 + resource.length;
}

/** Characters a list of ARNs takes in a policy document: each quoted, separated by commas. */
export function listChars(lengths: number[]): number {
  return lengths.reduce((sum, n) => sum + n + 3, 0);
}

/**
 * The exact ARNs of `resources` when their list is short enough (EXACT_ARNS_BUDGET), else one
 * ARN pattern that the construct's naming convention guarantees covers them all.
 */
export function exactOrPattern(
  scope: Construct,
  service: string,
  resources: string[],
  pattern: string,
): { arns: string[]; pattern?: string } {
  const unique = [...new Set(resources)];
  const chars = listChars(unique.map((r) => arnLength(scope, service, r)));
  if (unique.length <= EXACT_ARNS_MAX && chars <= EXACT_ARNS_BUDGET) {
    return { arns: unique.map((r) => awsArn(service, r)) };
  }
  return { arns: [awsArn(service, pattern)], pattern };
}

/**
 * Splits `items` (with their sizes) into consecutive chunks, the first holding up to `first`
 * characters and each next one up to `rest`. Deterministic: the same list gives the same chunks.
 */
export function chunkBySize<T>(items: { item: T; size: number }[], first: number, rest: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let used = 0;
  let budget = first;
  for (const { item, size } of items) {
    if (current.length > 0 && used + size > budget) {
      chunks.push(current);
      current = [];
      used = 0;
      budget = rest;
    }
    current.push(item);
    used += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** A physical name from the stack's name and a suffix, within `max` characters. */
export function stackScopedName(scope: Construct, suffix: string, max = 64): string {
  const stackName = Stack.of(scope).stackName;
  if (Token.isUnresolved(stackName)) {
    throw new Error(`${scope.node.path}: the stack needs a literal name to name ${suffix}`);
  }
  return `${stackName.slice(0, max - suffix.length - 1)}-${suffix}`;
}
