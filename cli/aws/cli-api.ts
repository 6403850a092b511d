import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { STSClient } from '@aws-sdk/client-sts';
import { UsageError } from '../commands/shared';
import { type Fetch, signedFetch } from './signed-fetch';
import { type AwsTarget, openAwsSession, outputOf, resolveCredentials, stackOutputNames } from './stack';

/** What the AWS mode of a command may be given instead of the real thing (tests). */
export interface AwsDeps {
  fetch?: Fetch;
  cloudFormation?: CloudFormationClient;
  /** STS for the caller's identity (GetCallerIdentity). */
  sts?: STSClient;
  /** Merged into every other client's configuration (a test points DynamoDB at dynalite). */
  clientConfig?: Record<string, unknown>;
  /** How the CLI waits between two polls of the table (a test passes one that does not wait). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Stops a wait (Ctrl-C sets it; a test may). */
  signal?: AbortSignal;
}

/** One request to the decision API: its status and its body (JSON when it parses). */
export type ApiCall = (
  path: string,
  init: { method: string; body?: unknown },
) => Promise<{ status: number; body: unknown }>;

/**
 * The decision API's routes on the stack's CLI API (output `CliApiUrl`), each request signed
 * with the caller's credentials (SigV4, `execute-api`): API Gateway's IAM authorization makes the
 * caller's principal the identity.
 */
export async function cliApiOf(target: AwsTarget, deps: AwsDeps = {}): Promise<ApiCall> {
  const session = await openAwsSession(target, deps.cloudFormation);
  const base = outputOf(session, stackOutputNames.cliApiUrl).replace(/\/+$/, '');
  await resolveCredentials(session);
  const send = signedFetch({
    region: session.region,
    credentials: session.credentials,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  return async (path, init) => {
    let res: Response;
    try {
      res = await send(`${base}${path}`, {
        method: init.method,
        ...(init.body !== undefined
          ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
          : {}),
      });
    } catch (error) {
      throw new UsageError(`cannot reach the CLI API at ${base}: ${(error as Error).message}`);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: shown as it came.
    }
    return { status: res.status, body };
  };
}
