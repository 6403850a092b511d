/**
 * The contracts between the twin's parts: the transport (which answers SDK commands), the IAM
 * evaluator (which authorizes them) and the per-service emulators (which implement them). Every
 * emulator works on the SDK's own input and output shapes and fails with the SDK's own exception
 * classes, so the adapters in shared/aws run unchanged and classify errors as they would on AWS.
 */

/** What an SDK service exception looks like (every client's exceptions extend its ServiceException). */
export type ServiceException = Error & { $fault: 'client' | 'server'; $metadata: object };

/** The account, region and partition the twin pretends to be. ARNs are built from these. */
export const TWIN_ACCOUNT = '000000000000';
export const TWIN_REGION = 'us-east-1';
export const TWIN_PARTITION = 'aws';

/** `arn:aws:<service>:us-east-1:000000000000:<resource>`; `region`/`account` may be '' as IAM ARNs have. */
export function twinArn(service: string, resource: string, region = TWIN_REGION, account = TWIN_ACCOUNT) {
  return `arn:${TWIN_PARTITION}:${service}:${region}:${account}:${resource}`;
}

/** The IAM prefix of each emulated service, as in `codedeploy:CreateDeployment`. */
export type ServicePrefix =
  | 'codedeploy'
  | 'cloudwatch'
  | 'lambda'
  | 'ecs'
  | 'events'
  | 'states'
  | 'dynamodb'
  | 's3'
  | 'secretsmanager'
  | 'sts';

/**
 * One authorization AWS performs for a call: the action, the resource ARN it is checked on, and
 * the condition keys AWS supplies in the request context (e.g. `iam:PassedToService`).
 */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/** Who makes a call: a function's execution role (or a service's role, e.g. a rule target's). */
export interface Caller {
  /** `arn:aws:iam::000000000000:role/<name>` */
  roleArn: string;
  /** For logs and error messages: the function or service acting, e.g. `Deploy`. */
  name: string;
}

/** An IAM policy statement as it appears in a template once intrinsics are resolved. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean | number>>;
  Principal?: unknown;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** The result of evaluating a request against a set of identity policies. */
export interface AuthorizationResult {
  allowed: boolean;
  /** 'explicit-deny' | 'allowed' | 'implicit-deny' */
  decision: 'allowed' | 'explicit-deny' | 'implicit-deny';
  /** The statement that decided it, when one did. */
  statement?: PolicyStatement;
}

/**
 * An emulated AWS service. The transport asks it which authorizations a call needs, has the IAM
 * evaluator check each against the caller's role, then lets it answer.
 */
export interface ServiceEmulator {
  readonly prefix: ServicePrefix;
  /**
   * The IAM checks this call needs, as AWS performs them: the main action on its resource ARN,
   * plus any extra permission a parameter requires (each documented where it is produced).
   * Called before `handle`; it may read the emulator's state (a deployment's group, for one).
   */
  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[];
  /** Answers a command as the service does, or throws the service's own exception class. */
  handle(command: string, input: Record<string, unknown>, caller: Caller): Promise<Record<string, unknown>>;
}

/** A service exception class exported by an SDK client package (all extend ServiceException). */
// biome-ignore lint/suspicious/noExplicitAny: SDK exception constructors differ in their option types.
type ServiceExceptionClass = new (options: any) => Error;

/**
 * Builds an error exactly as the SDK would deserialize it: an instance of the client's modeled
 * exception class when there is one (pass it), or of the client's base ServiceException with the
 * error code as its name (for unmodeled codes such as AccessDeniedException on CodeDeploy).
 */
export function serviceError(
  Exception: ServiceExceptionClass,
  name: string,
  message: string,
  options: { fault?: 'client' | 'server'; httpStatusCode?: number } = {},
): ServiceException {
  const fault = options.fault ?? 'client';
  const httpStatusCode = options.httpStatusCode ?? (fault === 'client' ? 400 : 500);
  const Ctor = Exception;
  // Modeled exception classes take (opts) and set their own name; base classes take the name.
  const error = new Ctor({ name, $fault: fault, $metadata: { httpStatusCode }, message }) as ServiceException;
  if (error.name !== name) Object.defineProperty(error, 'name', { value: name, enumerable: true });
  (error as unknown as { message: string }).message = message;
  return error;
}

/** The virtual clock every emulator runs on (implemented by local/scheduler.ts). */
export interface TwinClock {
  now(): Date;
  /** Runs `fn` at virtual time `atMs`; virtual time does not pass it until `fn` has finished. */
  at(atMs: number, fn: () => void | Promise<void>): void;
}

/** An event as a service or PutEvents puts it on a bus. */
export interface BusEntry {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  /** ISO time; the clock's now when absent. */
  time?: string;
}

/** Where services publish their events: AWS services publish to the account's `default` bus. */
export interface EventSink {
  putFromService(busName: string, entry: BusEntry): void;
}

/** One CloudWatch metric datapoint request, as an alarm's MetricStat names it. */
export interface MetricQuery {
  namespace: string;
  metricName: string;
  /** Dimension name → value, e.g. `{ FunctionName: 'checkout', Resource: 'checkout:live' }`. */
  dimensions: Record<string, string>;
  /** `Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount` or a percentile such as `p99`. */
  stat: string;
  /** Start of the period (inclusive), virtual ms. */
  startMs: number;
  periodMs: number;
}

/**
 * A producer of metrics (the Lambda and ECS emulators' synthetic live traffic). Datapoints are a
 * pure function of what serves during the period, so a period with the same routing gives the
 * same value: alarms need evaluating only while something changes.
 */
export interface MetricSource {
  /** The statistic over the period, or undefined when the metric has no data for it (missing). */
  datapoint(query: MetricQuery): number | undefined;
  /** Tells `listener` when something changed that can change later datapoints (a traffic shift). */
  onChange(
    listener: (change: { namespace: string; dimensions: Record<string, string>; atMs: number }) => void,
  ): void;
}

/** What CodeDeploy needs from the Lambda emulator to validate an AppSpec and shift an alias. */
export interface LambdaTraffic {
  /** The version the alias points to now (its primary version), or undefined if no such alias. */
  aliasVersion(functionName: string, alias: string): string | undefined;
  /** Whether a published version exists. */
  hasVersion(functionName: string, version: string): boolean;
  /**
   * Routes the alias: `primary` gets the rest, `additional` the given weight (0..1), as UpdateAlias
   * with RoutingConfig.AdditionalVersionWeights does. `additional` undefined clears the routing.
   */
  routeAlias(
    functionName: string,
    alias: string,
    primary: string,
    additional?: { version: string; weight: number },
  ): void;
}

/** What CodeDeploy needs from the ECS emulator to validate an AppSpec and shift a service. */
export interface EcsTraffic {
  /** The task definition ARN the service's primary task set runs, or undefined if no such service. */
  serviceTaskDefinition(cluster: string, service: string): string | undefined;
  /** The container names of a registered task definition, or undefined if it is not registered. */
  containersOf(taskDefinitionArn: string): string[] | undefined;
  /**
   * Shifts production traffic: `primary` gets the rest, `replacement` its weight (0..1). With
   * `replacement` undefined the primary serves everything (end of a deployment or a rollback).
   */
  routeService(
    cluster: string,
    service: string,
    primary: string,
    replacement?: { taskDefinitionArn: string; weight: number },
  ): void;
}

/** What CodeDeploy needs from CloudWatch: the current state of named alarms. */
export interface AlarmStateReader {
  /** Each named alarm's state now; unknown names are left out (CodeDeploy then fails the poll). */
  alarmStates(names: readonly string[]): { name: string; state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' }[];
}
