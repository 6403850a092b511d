import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { consoleAsset } from '../../console/assets';
import { type AwsPorts, awsPorts } from '../../shared/aws/wiring';
import {
  type ApproverIdentity,
  identityFromClaims,
  identityFromIamPrincipal,
} from '../../shared/domain/approvals';
import { createLogger } from '../../shared/runtime/logger';
import { stepLogging } from '../../shared/runtime/middleware';
import { type ApprovalsApiPorts, handleApi } from './api';

/** How the console signs people in on AWS: the user pool's hosted sign-in (docs/approvals.md). */
const signIn = z
  .object({
    UPSHIFT_SIGNIN_URL: z.url().optional(),
    UPSHIFT_SIGNIN_CLIENT_ID: z.string().min(1).optional(),
  })
  .parse({
    UPSHIFT_SIGNIN_URL: process.env.UPSHIFT_SIGNIN_URL || undefined,
    UPSHIFT_SIGNIN_CLIENT_ID: process.env.UPSHIFT_SIGNIN_CLIENT_ID || undefined,
  });

const log = createLogger({ step: 'ApprovalsApi' });

/**
 * Who calls, from what API Gateway's authorizer established: the JWT authorizer's verified claims
 * (the console), or the IAM authorizer's principal (the CLI, SigV4). Nothing a client sends in
 * headers or the body can set these: API Gateway fills `requestContext.authorizer` itself, and
 * `upshift up` fills it only after verifying the token.
 */
export function identityOf(event: APIGatewayProxyEventV2): ApproverIdentity | undefined {
  const authorizer = (event.requestContext as { authorizer?: Record<string, unknown> }).authorizer;
  const jwt = authorizer?.jwt as { claims?: Record<string, unknown> } | undefined;
  if (jwt?.claims) return identityFromClaims(jwt.claims);
  const iam = authorizer?.iam as { userArn?: unknown } | undefined;
  if (iam) return identityFromIamPrincipal(iam);
  return undefined;
}

export function createHandler(ports: ApprovalsApiPorts) {
  // Powertools around each request (traces, the request id on the logs, the duration metric).
  const api = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>();
  api.use(stepLogging('ApprovalsApi') as MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2>);
  return api.handler(async (event) => {
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    if (method === 'GET' && !path.startsWith('/api/')) {
      const asset = consoleAsset(path, {
        mode: 'cognito',
        ...(signIn.UPSHIFT_SIGNIN_URL ? { signInUrl: signIn.UPSHIFT_SIGNIN_URL } : {}),
        ...(signIn.UPSHIFT_SIGNIN_CLIENT_ID ? { clientId: signIn.UPSHIFT_SIGNIN_CLIENT_ID } : {}),
      });
      if (asset) return { statusCode: 200, headers: asset.headers, body: asset.body };
    }
    const body =
      event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const identity = identityOf(event);
    const response = await handleApi(
      {
        method,
        path,
        query: (event.queryStringParameters ?? {}) as Record<string, string | undefined>,
        body,
        identity,
      },
      ports,
    );
    // The route, the caller and the status: never the body, which may quote a comment.
    log.info('approvals api', { method, path, status: response.status, caller: identity?.name ?? null });
    return {
      statusCode: response.status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(response.body),
    };
  });
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: AwsPorts) {
  return createHandler({
    approvals: aws.stores().approvals,
    workflows: aws.stores().workflows,
    callbacks: aws.callbacks(),
    clock: aws.clock,
    deployments: aws.deployer(),
    waves: aws.stores().waves,
  });
}

export const handler = wire(awsPorts());
