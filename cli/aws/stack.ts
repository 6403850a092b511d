import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { type Flags, str, UsageError } from '../commands/shared';

/** The outputs the stacks declare for the CLI (infra/stateless-stack.ts, infra/approvals.ts). */
export const stackOutputNames = {
  cliApiUrl: 'CliApiUrl',
  tableName: 'TableName',
  eventBusName: 'EventBusName',
  stateMachineArn: 'StateMachineArn',
} as const;

export type StackOutputName = (typeof stackOutputNames)[keyof typeof stackOutputNames];

/** The caller's AWS credentials, as the SDK resolves them. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** `--stack NAME [--region R] [--profile P]`: which deployed stack, and as whom. */
export interface AwsTarget {
  stack: string;
  region?: string;
  profile?: string;
}

/** The `--stack` target, or undefined when the command runs locally. */
export function awsTargetOf(flags: Flags): AwsTarget | undefined {
  const stack = str(flags.stack);
  if (flags.stack !== undefined && !stack) throw new UsageError('--stack: expected a stack name');
  if (!stack) {
    for (const flag of ['region', 'profile'] as const) {
      if (str(flags[flag])) throw new UsageError(`--${flag} needs --stack NAME (it picks the AWS account)`);
    }
    return undefined;
  }
  const region = str(flags.region);
  const profile = str(flags.profile);
  return { stack, ...(region ? { region } : {}), ...(profile ? { profile } : {}) };
}

/** A deployed stack as the CLI sees it: its outputs, its region, and the caller's credentials. */
export interface AwsSession {
  target: AwsTarget;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  outputs: Record<string, string>;
  /** Configuration for every other SDK client the command makes (same region and credentials). */
  clientConfig: { region: string; credentials: AwsCredentialIdentityProvider };
}

/**
 * Reads the stack's outputs with DescribeStacks, as the caller (the SDK's default chain, or
 * `--profile`), in `--region` or the default region. Each way it can go wrong is a one-line
 * UsageError: no credentials, no region, no such stack, not allowed.
 */
export async function openAwsSession(
  target: AwsTarget,
  cloudFormation: CloudFormationClient = new CloudFormationClient({
    ...(target.region ? { region: target.region } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
  }),
): Promise<AwsSession> {
  let region: string;
  try {
    region = await cloudFormation.config.region();
  } catch (error) {
    throw new UsageError(
      `--stack ${target.stack}: no AWS region (${firstLine(error)}); pass --region or set AWS_REGION`,
    );
  }
  const credentials = cloudFormation.config.credentials as AwsCredentialIdentityProvider;
  let described: DescribeStacksCommandOutput;
  try {
    described = await cloudFormation.send(new DescribeStacksCommand({ StackName: target.stack }));
  } catch (error) {
    throw describeError(target, region, error);
  }
  const stack = described.Stacks?.[0];
  if (!stack) throw notFound(target, region);
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) {
    if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  }
  return { target, region, credentials, outputs, clientConfig: { region, credentials } };
}

/** One output of the stack, or a UsageError naming it and what to do. */
export function outputOf(session: AwsSession, name: StackOutputName): string {
  const value = session.outputs[name];
  if (!value) {
    const has = Object.keys(session.outputs).sort();
    throw new UsageError(
      `--stack ${session.target.stack}: the stack has no output "${name}" (it has ${has.length ? has.join(', ') : 'none'}); pass the Upshift stateless stack (UpshiftStateless), or deploy it again with this version`,
    );
  }
  return value;
}

/** The caller's credentials now, or a UsageError saying none were found. */
export async function resolveCredentials(session: AwsSession): Promise<AwsCredentialIdentity> {
  try {
    return await session.credentials();
  } catch (error) {
    throw noCredentials(session.target, error);
  }
}

function describeError(target: AwsTarget, region: string, error: unknown): Error {
  const e = error as { name?: string; message?: string };
  const name = e?.name ?? '';
  const message = firstLine(error);
  if (name === 'ValidationError' && /does not exist/i.test(message)) return notFound(target, region);
  if (isCredentialsError(error)) return noCredentials(target, error);
  if (/AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${message}`)) {
    return new UsageError(
      `--stack ${target.stack}: not allowed to describe the stack in ${region} (${message}); the caller needs cloudformation:DescribeStacks`,
    );
  }
  if (/ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient/i.test(name)) {
    return new UsageError(`--stack ${target.stack}: AWS refused the credentials (${name}: ${message})`);
  }
  return new UsageError(`--stack ${target.stack}: cannot describe the stack in ${region}: ${message}`);
}

function isCredentialsError(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return (
    e?.name === 'CredentialsProviderError' ||
    /Could not load credentials|credentials? (?:is|are) missing|profile .* could not be found/i.test(
      e?.message ?? '',
    )
  );
}

function noCredentials(target: AwsTarget, error: unknown): UsageError {
  return new UsageError(
    `--stack ${target.stack}: no AWS credentials${target.profile ? ` for profile ${target.profile}` : ''} (${firstLine(error)}); sign in (aws sso login, AWS_PROFILE, --profile) or set AWS_ACCESS_KEY_ID`,
  );
}

function notFound(target: AwsTarget, region: string): UsageError {
  return new UsageError(
    `--stack ${target.stack}: no such stack in ${region}; check --stack, --region and --profile (cdk deploy names them UpshiftStateful and UpshiftStateless)`,
  );
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
