import { Agent } from 'node:http';
import { CloudWatchServiceException } from '@aws-sdk/client-cloudwatch';
import { CodeDeployServiceException } from '@aws-sdk/client-codedeploy';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { ECSServiceException } from '@aws-sdk/client-ecs';
import { EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { LambdaServiceException } from '@aws-sdk/client-lambda';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { STSServiceException } from '@aws-sdk/client-sts';
import {
  type AuthorizationRequest,
  type AuthorizationResult,
  type Caller,
  type ServiceEmulator,
  type ServicePrefix,
  serviceError,
  TWIN_ACCOUNT,
  TWIN_PARTITION,
  TWIN_REGION,
} from './contracts';

const loopbackAgent = new Agent({ keepAlive: true, maxSockets: 256 });

/** The SDK client class name → the IAM prefix of its service. */
const prefixOfClient: Record<string, ServicePrefix> = {
  CodeDeployClient: 'codedeploy',
  CloudWatchClient: 'cloudwatch',
  LambdaClient: 'lambda',
  ECSClient: 'ecs',
  EventBridgeClient: 'events',
  SFNClient: 'states',
  DynamoDBClient: 'dynamodb',
  S3Client: 's3',
  SecretsManagerClient: 'secretsmanager',
  STSClient: 'sts',
};

// biome-ignore lint/suspicious/noExplicitAny: SDK exception constructors differ in their option types.
const exceptionOf: Record<ServicePrefix, new (options: any) => Error> = {
  codedeploy: CodeDeployServiceException as never,
  cloudwatch: CloudWatchServiceException as never,
  lambda: LambdaServiceException as never,
  ecs: ECSServiceException as never,
  events: EventBridgeServiceException as never,
  states: SFNServiceException as never,
  dynamodb: DynamoDBServiceException as never,
  s3: S3ServiceException as never,
  secretsmanager: SecretsManagerServiceException as never,
  sts: STSServiceException as never,
};

export interface Authorizer {
  authorize(caller: Caller, request: AuthorizationRequest): AuthorizationResult;
  deniedMessage(caller: Caller, request: AuthorizationRequest, result: AuthorizationResult): string;
}

/** One call through the transport, for the bench and for tests. */
export interface CallRecord {
  caller: string;
  service: ServicePrefix;
  command: string;
  /** Set when IAM refused the call. */
  denied?: string;
  /** Set when the service answered with an error. */
  error?: string;
}

/**
 * A fault to inject into matching calls (tests and the reliability suite): `before` fails the call
 * without doing it, `after` does it and then fails, as a crash or a lost response between a write
 * and its acknowledgement would.
 */
export interface Fault {
  service: ServicePrefix;
  command: string;
  /** Only calls made by this function (its name in the construct, e.g. `Deploy`). */
  caller?: string;
  when: 'before' | 'after';
  error: () => Error;
  /** How many matching calls fail; then the fault is spent. */
  times: number;
  /** Only calls whose input this accepts. */
  match?: (input: Record<string, unknown>) => boolean;
}

/**
 * The twin's SDK transport: a middleware at the `initialize` step of every client a function
 * makes. It authorizes each command against the function's role, then answers it from the
 * service's emulator (or, for DynamoDB, passes it on to dynalite over HTTP). Only this and the
 * clock differ from AWS: the adapters, their requests and their error handling run unchanged.
 */
export class TwinTransport {
  readonly calls: CallRecord[] = [];
  private recording = false;
  private readonly counts = new Map<string, number>();
  private readonly faults: Fault[] = [];

  /** Who acts for credentials an STS emulator handed out (set by `actAsSessions`). */
  private sessionOf?: (accessKeyId: string) => Caller | undefined;

  constructor(
    private readonly emulators: Map<ServicePrefix, ServiceEmulator>,
    private readonly iam: Authorizer,
  ) {}

  /**
   * Calls signed with credentials from the twin's STS act as the assumed role's session and are
   * authorized against that role's policies, as on AWS (decision 0028). Without it (the default),
   * every client acts as the function it was made for, and no credentials are read per call.
   */
  actAsSessions(sessionOf: (accessKeyId: string) => Caller | undefined): void {
    this.sessionOf = sessionOf;
  }

  /** Keep every call in `calls` (tests); counts by service and command are always kept. */
  record(on: boolean): void {
    this.recording = on;
  }

  /** Fails matching calls as `fault` says, `fault.times` times. */
  injectFault(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  private fault(
    caller: Caller,
    service: ServicePrefix,
    command: string,
    input: Record<string, unknown>,
    when: Fault['when'],
  ) {
    const f = this.faults.find(
      (x) =>
        x.times > 0 &&
        x.when === when &&
        x.service === service &&
        x.command === command &&
        (!x.caller || x.caller === caller.name) &&
        (!x.match || x.match(input)),
    );
    if (!f) return;
    f.times--;
    throw f.error();
  }

  /** Calls by `service:Command` since the last reset. */
  countsByCommand(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  resetCounts(): void {
    this.counts.clear();
    this.calls.length = 0;
  }

  /** The client options that route a function's SDK clients through this transport. */
  clientOptions(caller: Caller, dynamoEndpoint: string) {
    return {
      clientConfig: {
        region: TWIN_REGION,
        credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
        endpoint: dynamoEndpoint,
        maxAttempts: 3,
        // Only DynamoDB goes over HTTP (to dynalite on loopback): one kept-alive pool for all
        // functions, wide enough for a burst of upgrades.
        requestHandler: { httpAgent: loopbackAgent },
      },
      decorate: <C extends { middlewareStack: unknown }>(client: C): C => {
        (client.middlewareStack as MiddlewareStack).add(this.middleware(caller, client), {
          step: 'initialize',
          name: 'upshiftTwinTransport',
          priority: 'high',
        });
        return client;
      },
    };
  }

  /** Authorizes and answers one command as the caller; for the twin's own services (rules, engine). */
  async call(
    caller: Caller,
    service: ServicePrefix,
    command: string,
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const emulator = this.emulators.get(service);
    if (!emulator) throw new Error(`the twin has no ${service} emulator`);
    this.authorizeAll(caller, service, command, emulator.authorizations(command, input));
    this.fault(caller, service, command, input, 'before');
    let output: Record<string, unknown>;
    try {
      output = await emulator.handle(command, input, caller);
    } catch (error) {
      this.note(caller, service, command, { error: (error as Error).name });
      throw error;
    }
    this.fault(caller, service, command, input, 'after');
    return output;
  }

  private middleware(functionCaller: Caller, client?: unknown) {
    return (
      next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
      context: MiddlewareContext,
    ) =>
      async (args: { input: Record<string, unknown> }) => {
        const service = prefixOfClient[context.clientName ?? ''];
        const command = (context.commandName ?? '').replace(/Command$/, '');
        if (!service) throw new Error(`the twin has no transport for ${context.clientName}`);
        const caller = this.sessionOf ? await this.actingAs(functionCaller, client) : functionCaller;
        if (service === 'dynamodb') {
          this.authorizeAll(caller, service, command, this.dynamoAuthorizations(command, args.input));
          this.fault(caller, service, command, args.input, 'before');
          const result = await next(args);
          this.fault(caller, service, command, args.input, 'after');
          return result;
        }
        const output = await this.call(caller, service, command, args.input);
        return { output: { $metadata: { httpStatusCode: 200, requestId: 'twin' }, ...output }, response: {} };
      };
  }

  /** The assumed role's session when the client's credentials are an STS session's, else the function. */
  private async actingAs(caller: Caller, client: unknown): Promise<Caller> {
    const provider = (client as { config?: { credentials?: unknown } } | undefined)?.config?.credentials;
    if (typeof provider !== 'function' || !this.sessionOf) return caller;
    const credentials = (await provider()) as { accessKeyId?: string } | undefined;
    return (credentials?.accessKeyId && this.sessionOf(credentials.accessKeyId)) || caller;
  }

  private authorizeAll(
    caller: Caller,
    service: ServicePrefix,
    command: string,
    requests: AuthorizationRequest[],
  ) {
    for (const request of requests) {
      const result = this.iam.authorize(caller, request);
      if (!result.allowed) {
        const message = this.iam.deniedMessage(caller, request, result);
        this.note(caller, service, command, { denied: request.action });
        // As AWS answers: the service's AccessDeniedException, a client error, never retried.
        // STS (a Query API) names it AccessDenied, with HTTP 403.
        if (service === 'sts') {
          throw serviceError(exceptionOf[service], 'AccessDenied', message, { httpStatusCode: 403 });
        }
        throw serviceError(exceptionOf[service], 'AccessDeniedException', message, { httpStatusCode: 400 });
      }
    }
    this.note(caller, service, command, {});
  }

  private note(caller: Caller, service: ServicePrefix, command: string, extra: Partial<CallRecord>) {
    if (!extra.error) {
      const key = `${service}:${command}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
    if (this.recording) this.calls.push({ caller: caller.name, service, command, ...extra });
  }

  /**
   * DynamoDB authorizes each action on the table, or on the index for a Query or Scan of one
   * (Service Authorization Reference, Amazon DynamoDB: resource types `table` and `index`).
   */
  private dynamoAuthorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const tableName = String(input.TableName ?? '');
    const tableArn = tableName.startsWith('arn:')
      ? tableName
      : `arn:${TWIN_PARTITION}:dynamodb:${TWIN_REGION}:${TWIN_ACCOUNT}:table/${tableName}`;
    if (command === 'BatchWriteItem' || command === 'BatchGetItem') {
      const tables = Object.keys((input.RequestItems ?? {}) as Record<string, unknown>);
      return tables.map((t) => ({
        action: `dynamodb:${command}`,
        resource: `arn:${TWIN_PARTITION}:dynamodb:${TWIN_REGION}:${TWIN_ACCOUNT}:table/${t}`,
      }));
    }
    const resource = input.IndexName ? `${tableArn}/index/${String(input.IndexName)}` : tableArn;
    return [{ action: `dynamodb:${command}`, resource }];
  }
}

interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}

interface MiddlewareStack {
  add(middleware: unknown, options: { step: string; name: string; priority: string }): void;
}
