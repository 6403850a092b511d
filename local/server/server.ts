import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConsoleConfig, consoleAsset } from '../../console/assets';
import type { LocalStack } from '../stack';
import type { LocalIdentityProvider } from './identity';

/** The largest request body the server reads (PutEvents takes at most 256 KB of entries). */
const MAX_BODY_BYTES = 1024 * 1024;

export interface UpServer {
  url: string;
  port: number;
  server: Server;
  /** Attaches the stack once it has started (requests before get 503). */
  attach(stack: LocalStack): void;
  close(): Promise<void>;
}

export interface UpServerOptions {
  port: number;
  identity: LocalIdentityProvider;
  /** One line per request and per notification (never a body, a token or a header). */
  log?: (line: string) => void;
}

/**
 * `upshift up`'s HTTP server, on 127.0.0.1 only:
 * - `/`, `/console.js`, `/console.css`: the approval console (the same assets as on AWS);
 * - `/api/...`: the decision API, as API Gateway serves it: the bearer token is verified first
 *   (aws-jwt-verify, the local JWKS), then the ApprovalsApi function of the twin is invoked with
 *   the verified claims in `requestContext.authorizer.jwt`, as the JWT authorizer passes them;
 * - `POST /auth/token {"user": NAME}`: a signed token for a user of the users file (local sign-in);
 *   `/.well-known/jwks.json`: the keys that verify it;
 * - `POST /` with `X-Amz-Target: AWSEvents.PutEvents`: EventBridge's PutEvents (AWS JSON 1.1), so
 *   `aws events put-events --endpoint-url` and the SDK with `endpoint` deliver events unchanged.
 */
export async function startUpServer(options: UpServerOptions): Promise<UpServer> {
  let stack: LocalStack | undefined;
  const log = options.log ?? (() => undefined);
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      log(`${req.method} ${req.url} failed: ${(error as Error).message}`);
      if (!res.headersSent)
        json(res, 500, { error: { code: 'INTERNAL', message: 'the local server failed; see its output' } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const target = header(req, 'x-amz-target');
    if (method === 'POST' && url.pathname === '/' && target) return putEvents(req, res, target);
    if (method === 'GET' && url.pathname === '/.well-known/jwks.json')
      return json(res, 200, options.identity.jwks);
    if (method === 'POST' && url.pathname === '/auth/token') return issueToken(req, res);
    if (url.pathname.startsWith('/api/')) return api(req, res, url, method);
    if (method === 'GET') {
      const config: ConsoleConfig = { mode: 'local', users: options.identity.userNames() };
      const asset = consoleAsset(url.pathname, config);
      if (asset) {
        res.writeHead(200, asset.headers);
        res.end(asset.body);
        return;
      }
    }
    json(res, 404, { error: { code: 'NO_ROUTE', message: `no route ${method} ${url.pathname}` } });
  }

  async function issueToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req));
    const user = body && typeof body === 'object' ? (body as { user?: unknown }).user : undefined;
    const token = typeof user === 'string' ? options.identity.issue(user) : undefined;
    if (!token) {
      return json(res, 400, {
        error: {
          code: 'UNKNOWN_USER',
          message: `"${String(user)}" is not in the users file (${options.identity.userNames().join(', ')})`,
        },
      });
    }
    log(`sign-in: ${String(user)}`);
    json(res, 200, { token, tokenType: 'Bearer', expiresIn: 3600 });
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    if (!stack)
      return json(res, 503, { error: { code: 'STARTING', message: 'the local stack is starting' } });
    const body = await readBody(req);
    const verified = await options.identity.verify(header(req, 'authorization'));
    if ('problem' in verified) {
      // As API Gateway's JWT authorizer: no verified token, no invocation.
      log(`${method} ${url.pathname} 401`);
      return json(res, 401, { error: { code: 'NO_IDENTITY', message: verified.problem } });
    }
    const event = {
      version: '2.0',
      routeKey: `${method} ${url.pathname}`,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers: { 'content-type': header(req, 'content-type') ?? '' },
      queryStringParameters: Object.fromEntries(url.searchParams),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1',
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' },
        requestId: crypto.randomUUID(),
        routeKey: `${method} ${url.pathname}`,
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
        authorizer: { jwt: { claims: asGatewayClaims(verified.claims), scopes: null } },
      },
      body: body || undefined,
      isBase64Encoded: false,
    };
    const out = (await stack.invokeFromApi('ApprovalsApi', event)) as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
    };
    log(`${method} ${url.pathname} ${out.statusCode} ${String(verified.claims['cognito:username'])}`);
    res.writeHead(out.statusCode, out.headers ?? {});
    res.end(out.body ?? '');
  }

  async function putEvents(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    const type = 'application/x-amz-json-1.1';
    const fault = (status: number, name: string, message: string) => {
      res.writeHead(status, { 'content-type': type, 'x-amzn-errortype': name });
      res.end(JSON.stringify({ __type: name, message }));
    };
    if (target !== 'AWSEvents.PutEvents')
      return fault(400, 'UnknownOperationException', `${target} is not served here`);
    if (!stack) return fault(503, 'ServiceUnavailable', 'the local stack is starting');
    const input = parseJson(await readBody(req)) as { Entries?: Record<string, unknown>[] } | undefined;
    if (!input || typeof input !== 'object')
      return fault(400, 'SerializationException', 'expected a JSON body');
    // AWS JSON 1.1 sends timestamps as epoch seconds; the SDK's input shape has a Date.
    const entries = (Array.isArray(input.Entries) ? input.Entries : []).map((e) =>
      typeof e?.Time === 'number' ? { ...e, Time: new Date(e.Time * 1000) } : e,
    );
    try {
      const out = await stack.putEvents({ ...input, Entries: entries });
      const failed = Number(out.FailedEntryCount ?? 0);
      log(`PutEvents: ${entries.length} entries, ${failed} failed`);
      res.writeHead(200, { 'content-type': type, 'x-amzn-requestid': crypto.randomUUID() });
      res.end(JSON.stringify({ FailedEntryCount: failed, Entries: out.Entries ?? [] }));
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      fault(e.$metadata?.httpStatusCode ?? 400, e.name || 'ValidationException', e.message);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    attach(s) {
      stack = s;
      s.sns.onPublish((m) => log(`notification: ${m.message}`));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** API Gateway's HTTP API hands claims to the function as strings: arrays become `[a b]`. */
function asGatewayClaims(claims: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(' ')}]` : String(v)]),
  );
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
