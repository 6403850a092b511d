import type { BusEvent } from '../emulators/eventbridge';
import type { SecretsManagerEmulator } from '../emulators/secrets-manager';
import { type Caller, TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from './contracts';
import type { CfnTemplate, SynthesizedApp } from './synth';

/**
 * EventBridge API destinations in the twin: the connections and destinations of the synthesized
 * template, and the HTTP request a rule target sends through them, as EventBridge builds it
 * (EventBridge User Guide, "API destinations" and "Input transformation"):
 * - the body is the event, or what the target's InputTransformer makes of it;
 * - headers: the connection's authorization (an API key header, or Basic), then its invocation
 *   header parameters, then the target's HttpParameters (a value starting `$.` is a JSON path of
 *   the event); the connection's values win over the target's; query string parameters alike;
 *   path wildcards (`*`) are filled from PathParameterValues;
 * - the connection's secret values are the template's `{{resolve:secretsmanager:...}}` references,
 *   resolved as CloudFormation does at deploy time (from the twin's Secrets Manager);
 * - a request times out after 5 seconds; EventBridge retries 401, 407, 409, 429 and 5xx answers
 *   and timeouts, and sends any other answer that is not 2xx to the dead-letter queue at once;
 * - the target's role must allow `events:InvokeApiDestination` on the destination.
 */

export interface TwinConnection {
  arn: string;
  name: string;
  authorizationType: string;
  apiKey?: { name: string; value: string };
  basic?: { username: string; password: string };
  headers: { key: string; value: string }[];
  query: { key: string; value: string }[];
}

export interface TwinApiDestination {
  arn: string;
  name: string;
  endpoint: string;
  method: string;
  connectionArn: string;
}

/** A rule target's InputTransformer and HttpParameters, as the template gives them. */
export interface HttpTargetOptions {
  inputTransformer?: { InputTemplate: string; InputPathsMap?: Record<string, string> };
  httpParameters?: {
    HeaderParameters?: Record<string, string>;
    QueryStringParameters?: Record<string, string>;
    PathParameterValues?: string[];
  };
}

const arn = (resource: string) => `arn:${TWIN_PARTITION}:events:${TWIN_REGION}:${TWIN_ACCOUNT}:${resource}`;
/** The ARNs the twin gives them (AWS appends a UUID; the twin's is fixed). */
export const connectionArn = (name: string) => arn(`connection/${name}/00000000-0000-4000-8000-000000000000`);
export const apiDestinationArn = (name: string) =>
  arn(`api-destination/${name}/00000000-0000-4000-8000-000000000000`);

/** Reads the connections and API destinations of the stateless stack. */
export function readApiDestinations(app: SynthesizedApp): {
  connections: Map<string, TwinConnection>;
  destinations: Map<string, TwinApiDestination>;
} {
  const template: CfnTemplate = app.stateless;
  const nameOf = (id: string) => {
    const name = template.Resources[id]?.Properties?.Name;
    return typeof name === 'string' ? name : `${app.statelessName}-${id}`.slice(0, 64);
  };
  const connections = new Map<string, TwinConnection>();
  const destinations = new Map<string, TwinApiDestination>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::Events::Connection') {
      const auth = (p.AuthParameters ?? {}) as Record<string, unknown>;
      const invocation = (auth.InvocationHttpParameters ?? {}) as Record<string, unknown>;
      const params = (list: unknown) =>
        ((list as { Key: string; Value: unknown }[] | undefined) ?? []).map((x) => ({
          key: x.Key,
          value: literal(x.Value, `${id} ${x.Key}`),
        }));
      const apiKey = auth.ApiKeyAuthParameters as { ApiKeyName: string; ApiKeyValue: unknown } | undefined;
      const basic = auth.BasicAuthParameters as { Username: unknown; Password: unknown } | undefined;
      const name = nameOf(id);
      connections.set(id, {
        arn: connectionArn(name),
        name,
        authorizationType: String(p.AuthorizationType),
        ...(apiKey
          ? { apiKey: { name: apiKey.ApiKeyName, value: literal(apiKey.ApiKeyValue, `${id} ApiKeyValue`) } }
          : {}),
        ...(basic
          ? {
              basic: {
                username: literal(basic.Username, `${id} Username`),
                password: literal(basic.Password, `${id} Password`),
              },
            }
          : {}),
        headers: params(invocation.HeaderParameters),
        query: params(invocation.QueryStringParameters),
      });
    }
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Events::ApiDestination') continue;
    const p = resource.Properties ?? {};
    const ref = p.ConnectionArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const connection = ref?.['Fn::GetAtt'] ? connections.get(ref['Fn::GetAtt'][0]) : undefined;
    if (!connection)
      throw new Error(`API destination ${id}: its ConnectionArn names no connection of the template`);
    const name = nameOf(id);
    destinations.set(apiDestinationArn(name), {
      arn: apiDestinationArn(name),
      name,
      endpoint: literal(p.InvocationEndpoint, `${id} InvocationEndpoint`),
      method: String(p.HttpMethod),
      connectionArn: connection.arn,
    });
  }
  return {
    connections: new Map([...connections.values()].map((c) => [c.arn, c])),
    destinations,
  };
}

function literal(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  throw new Error(`${what}: the twin reads only literal values here, not ${JSON.stringify(value)}`);
}

/** `{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}`. */
const DYNAMIC_REFERENCE =
  /\{\{resolve:secretsmanager:(arn:[^:]+:secretsmanager:[^:]+:\d+:secret:[^:}]+|[^:}]+)(?::SecretString:([^:}]*)(?::([^:}]*))?(?::([^:}]*))?)?\}\}/g;

/** Resolves every Secrets Manager dynamic reference in `text` as CloudFormation would. */
export async function resolveDynamicReferences(
  text: string,
  secrets: SecretsManagerEmulator,
): Promise<string> {
  const deployer: Caller = {
    roleArn: 'arn:aws:iam::000000000000:role/cloudformation',
    name: 'cloudformation',
  };
  let out = '';
  let last = 0;
  for (const match of text.matchAll(DYNAMIC_REFERENCE)) {
    const [whole, secretId, jsonKey, stage, versionId] = match;
    const got = await secrets.handle(
      'GetSecretValue',
      {
        SecretId: secretId,
        ...(stage ? { VersionStage: stage } : {}),
        ...(versionId ? { VersionId: versionId } : {}),
      },
      deployer,
    );
    let value = String(got.SecretString);
    if (jsonKey) {
      const document = JSON.parse(value) as Record<string, unknown>;
      if (typeof document[jsonKey] !== 'string') {
        throw new Error(`dynamic reference ${whole}: the secret has no string key ${jsonKey}`);
      }
      value = document[jsonKey] as string;
    }
    out += text.slice(last, match.index) + value;
    last = (match.index ?? 0) + whole.length;
  }
  return out + text.slice(last);
}

/** A JSONPath of the event (`$`, `$.detail.x`, `$.detail-type`). */
function readPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path)) throw new Error(`unsupported JSON path ${path}`);
  let node: unknown = event;
  for (const key of path.slice(2).split('.')) {
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

/**
 * An InputTransformer's output: each `<name>` of the template replaced by the value its path
 * selects; inside a JSON string the value's text goes in escaped, elsewhere its JSON (objects and
 * arrays as JSON, a missing path as null). The predefined `<aws.events.rule-arn>`,
 * `<aws.events.rule-name>`, `<aws.events.event.ingestion-time>` and `<aws.events.event>` too.
 */
export function transformInput(
  transformer: NonNullable<HttpTargetOptions['inputTransformer']>,
  event: BusEvent,
  rule: { name: string; arn: string },
): string {
  const values: Record<string, unknown> = {
    'aws.events.rule-arn': rule.arn,
    'aws.events.rule-name': rule.name,
    'aws.events.event.ingestion-time': event.time,
    'aws.events.event': event,
    'aws.events.event.json': event,
  };
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {}))
    values[name] = readPath(event, path);
  const template = transformer.InputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const placeholder = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder && Object.hasOwn(values, placeholder[1] as string)) {
      const value = values[placeholder[1] as string];
      if (inString) {
        const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
        out += JSON.stringify(text).slice(1, -1);
      } else out += JSON.stringify(value ?? null);
      i += placeholder[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** An answer EventBridge gives up on at once: the event goes to the dead-letter queue. */
export class ApiDestinationRefused extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ApiDestinationRefused';
  }
}

const RETRIED = new Set([401, 407, 409, 429]);
const TIMEOUT_MS = 5_000;

/** Sends one event to an API destination as a rule target; throws as EventBridge fails it. */
export async function invokeApiDestination(input: {
  destination: TwinApiDestination;
  connection: TwinConnection;
  target: HttpTargetOptions;
  event: BusEvent;
  rule: { name: string; arn: string };
  secrets: SecretsManagerEmulator;
}): Promise<{ status: number }> {
  const { destination, connection, target, event } = input;
  const resolve = (text: string) => resolveDynamicReferences(text, input.secrets);
  const dynamic = (value: string) => (value.startsWith('$.') ? String(readPath(event, value) ?? '') : value);
  const body = target.inputTransformer
    ? transformInput(target.inputTransformer, event, input.rule)
    : JSON.stringify(event);
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
  for (const [k, v] of Object.entries(target.httpParameters?.HeaderParameters ?? {})) headers[k] = dynamic(v);
  for (const h of connection.headers) headers[h.key] = await resolve(h.value);
  if (connection.apiKey) headers[connection.apiKey.name] = await resolve(connection.apiKey.value);
  if (connection.basic) {
    const user = await resolve(connection.basic.username);
    const password = await resolve(connection.basic.password);
    headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  let endpoint = destination.endpoint;
  for (const value of target.httpParameters?.PathParameterValues ?? []) {
    endpoint = endpoint.replace('*', encodeURIComponent(dynamic(value)));
  }
  const url = new URL(endpoint);
  for (const [k, v] of Object.entries(target.httpParameters?.QueryStringParameters ?? {})) {
    url.searchParams.set(k, dynamic(v));
  }
  for (const q of connection.query) url.searchParams.set(q.key, await resolve(q.value));
  let response: Response;
  try {
    response = await fetch(url, {
      method: destination.method,
      headers,
      ...(destination.method === 'GET' || destination.method === 'HEAD' ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new Error(`API destination ${destination.name}: no answer: ${(error as Error).message}`);
  }
  const text = await response.text().catch(() => '');
  const status = response.status;
  if (status >= 200 && status < 300) return { status };
  const message = `API destination ${destination.name}: ${destination.method} ${url.origin}${url.pathname} answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (RETRIED.has(status) || status >= 500) throw new Error(message);
  throw new ApiDestinationRefused(message);
}
