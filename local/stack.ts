import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FileEvidenceStore, MemoryEvidenceStore } from '../functions/verify/evidence';
import type { Stores } from '../shared/aws/dynamo-store';
import { type AwsPorts, awsPorts } from '../shared/aws/wiring';
import { type Catalog, targetFor } from '../shared/domain/catalog';
import { type CiFeedbackInput, ciFeedbackContextKey } from '../shared/domain/feedback';
import { WAVE_UPDATED } from '../shared/domain/waves';
import type { WorkflowRecord } from '../shared/domain/workflow';
import type { EvidenceStore } from '../shared/ports';
import { timeOrderedIds } from '../shared/runtime/system';
import { decideApproval } from '../shared/usecases/decide-approval';
import { UNPARSABLE } from '../shared/usecases/resolve-event';
import { type LocalDynamo, startDynalite } from './dynalite';
import { CloudWatchEmulator, type CloudWatchSnapshot } from './emulators/cloudwatch';
import {
  CodeDeployEmulator,
  type CodeDeployEmulatorSnapshot,
  type DeploymentGroupSpec,
} from './emulators/codedeploy';
import { EcsEmulator, type EcsSnapshot, twinHttp } from './emulators/ecs';
import {
  type BusEvent,
  EventBridgeEmulator,
  type EventBridgeSnapshot,
  type RuleSpec,
  type RuleTarget,
} from './emulators/eventbridge';
import { LambdaEmulator, type LambdaSnapshot } from './emulators/lambda';
import { S3Emulator } from './emulators/s3';
import { type SecretSpec, SecretsManagerEmulator } from './emulators/secrets-manager';
import { SnsEmulator, type TopicSpec, topicsOf } from './emulators/sns';
import { StepFunctionsEmulator, TaskTokenRegistry } from './emulators/stepfunctions';
import { StsEmulator } from './emulators/sts';
import { type ExecutionResult, LocalEngine } from './engine';
import { VirtualScheduler, WallClock } from './scheduler';
import { ensureStateDir, lockStateDir } from './state-lock';
import { invokeApiDestination, readApiDestinations } from './twin/api-destinations';
import { readAssembly, type TwinFunction, type TwinModel } from './twin/assembly';
import type { AuthorizationRequest, Caller, ServicePrefix } from './twin/contracts';
import { accessDeniedMessage, evaluateResourcePolicy, RolePolicies } from './twin/iam';
import { projectRoot, type SynthesizedApp, synthesize } from './twin/synth';
import { TwinTransport } from './twin/transport';
import { createTargets, ensureLambdaVersion } from './twin/world';

export interface LocalStackOptions {
  catalog: Catalog;
  /** Keep DynamoDB and the emulators' state here between runs; in memory when absent. */
  stateDir?: string;
  /** Start of virtual time. */
  startAt?: Date;
  /**
   * Answer every approval request at once (the CLI's --approve / --reject). With several
   * approvers, each votes in turn, for a quorum; `groups` are theirs.
   */
  autoAnswer?: {
    approve: boolean;
    by: string | string[];
    /** Everyone's groups (from a users file); otherwise `groups` for all of them. */
    groupsOf?: Record<string, string[]>;
    groups?: string[];
    comment?: string;
  };
  /** Changes the synthesized templates before the twin reads them (tests remove a grant this way). */
  mutateTemplates?: (app: SynthesizedApp) => void;
  /** Changes the CDK app before synthesis (tests add a function to the construct this way). */
  customizeApp?: Parameters<typeof synthesize>[0]['customize'];
  /** Where synthesized templates are cached; `.upshift/cache` in the project by default. */
  cacheDir?: string;
  /** EventBridge test options: at-least-once duplicates and reordering. */
  delivery?: { duplicates?: number; reorderMs?: number; random?: () => number };
  /**
   * Run on the wall clock (`upshift up`) instead of the virtual one, `speed` times as fast (1 by
   * default). Time starts at `startAt`, else now (or a kept state's last instant when later).
   */
  wallClock?: { speed?: number };
  /**
   * Feedback to CI (docs/ci-feedback.md), synthesized into the app as the context
   * `upshift:ciFeedback` would be on AWS: the notifier and its rules run in the twin.
   */
  ciFeedback?: CiFeedbackInput;
  /** Secrets the account holds (Secrets Manager), such as the webhook's HMAC key. */
  secrets?: SecretSpec[];
}

export interface RunResult {
  execution: ExecutionResult;
  record: WorkflowRecord | undefined;
}

interface SavedState {
  clock: string;
  executions: number;
  /** Executions running when the state was saved. */
  running?: { arn: string; name: string; startDate: number; input?: string }[];
  lambda: LambdaSnapshot;
  ecs: EcsSnapshot;
  codedeploy: CodeDeployEmulatorSnapshot;
  cloudwatch: CloudWatchSnapshot;
  events: EventBridgeSnapshot;
}

/** The CLI's and tests' own calls are made with the user's (administrator's) credentials. */
const ADMIN: Caller = { roleArn: 'arn:aws:iam::000000000000:role/local-administrator', name: 'local-cli' };

/** States whose wait the reconciler's schedule serves. */
const RECONCILED_STATES = new Set(['WaitForDeployment', 'WaitForRevert', 'Bake']);

/**
 * The twin of what `cdk deploy` creates, in one process: the synthesized app read from its
 * templates (functions with their entry, environment and role; rules with their bus, pattern,
 * targets, retries and DLQ; the schedule; the state machine), the real handlers and SDK adapters,
 * AWS API emulators under the SDK with IAM enforced, dynalite for DynamoDB, all on one virtual
 * clock. Only the transport and the clock differ from AWS.
 */
export class LocalStack {
  private executions = 0;
  private readonly running = new Set<Promise<ExecutionResult>>();
  private unlock: () => void = () => undefined;
  private reconcileTicking = false;
  /** Reconciler ticks scheduled for promotion waves' soaks: virtual time passes until they fire. */
  private soakTicks = 0;
  /** The instants a soak's tick is scheduled at: one tick ends every soak due by then. */
  private readonly soakTickTimes = new Set<number>();
  private closed = false;
  private saving = false;
  private readonly runningExecutions = new Map<string, { name: string; startDate: number; input: string }>();
  /**
   * Virtual time passes only while an execution runs: between a driver's calls (a test, the CLI)
   * the clock holds still, so `run` starts at the time the driver set.
   */
  private releaseIdle: (() => void) | undefined;
  readonly stores: Stores;
  readonly engine: LocalEngine;
  readonly lambda: LambdaEmulator;
  readonly ecs: EcsEmulator;
  readonly codedeploy: CodeDeployEmulator;
  /** CloudWatch (named for what the CLI reads from it). */
  readonly alarms: CloudWatchEmulator;
  readonly events: EventBridgeEmulator;
  readonly stepFunctions: StepFunctionsEmulator;
  /** SNS: the app's topics (the approvals topic), published to by rule targets. */
  readonly sns: SnsEmulator;
  /** Secrets Manager: the secrets the options name (GetSecretValue with IAM). */
  readonly secrets: SecretsManagerEmulator;
  /** The template's API destinations and connections (rule targets send HTTP requests through them). */
  private apiDestinations: ReturnType<typeof readApiDestinations> = {
    connections: new Map(),
    destinations: new Map(),
  };
  /** The template's roles, for what the twin authorizes itself (a rule target's role). */
  private readonly roles: RolePolicies;
  readonly tokens = new TaskTokenRegistry();
  readonly transport: TwinTransport;
  /** The app's ports with the user's own credentials: what the CLI reads and writes with. */
  readonly admin: AwsPorts;
  readonly functions = new Map<string, TwinFunction>();
  private readonly ids: ReturnType<typeof timeOrderedIds>;
  /** Raw verification samples: the state folder's `evidence/`, or memory without one. */
  private readonly evidence: EvidenceStore;

  private constructor(
    readonly options: LocalStackOptions,
    readonly model: TwinModel,
    readonly scheduler: VirtualScheduler,
    readonly dynamo: LocalDynamo,
    saved: SavedState | undefined,
    topics: TopicSpec[] = [],
  ) {
    this.ids = timeOrderedIds(scheduler);
    this.evidence = options.stateDir
      ? new FileEvidenceStore(join(options.stateDir, 'evidence'))
      : new MemoryEvidenceStore();
    this.releaseIdle = scheduler.freeze();
    const clock = scheduler;
    const events = new EventBridgeEmulator({
      clock,
      deliver: (target, event, rule) => this.deliver(target, event, rule),
      ...(options.delivery?.random ? { random: options.delivery.random } : {}),
      ...(options.delivery?.duplicates !== undefined ? { duplicates: options.delivery.duplicates } : {}),
      ...(options.delivery?.reorderMs !== undefined ? { reorderMs: options.delivery.reorderMs } : {}),
    });
    this.events = events;
    this.sns = new SnsEmulator(clock, topics);
    this.secrets = new SecretsManagerEmulator(clock, options.secrets ?? []);
    this.lambda = new LambdaEmulator({ clock });
    this.ecs = new EcsEmulator({ clock });
    this.alarms = new CloudWatchEmulator({ clock, events, sources: [this.lambda, this.ecs] });
    if (saved) {
      this.lambda.restore(saved.lambda);
      this.ecs.restore(saved.ecs);
      this.alarms.restore(saved.cloudwatch);
      events.restore(saved.events);
    }
    createTargets(options.catalog, this.lambda, this.ecs);
    this.codedeploy = new CodeDeployEmulator({
      clock,
      events,
      lambda: this.lambda,
      ecs: this.ecs,
      alarms: this.alarms,
      applications: model.applications,
      groups: model.deploymentGroups.map(deploymentGroupSpec),
      customConfigs: model.deploymentConfigs.map((c) => ({
        deploymentConfigName: String(c.DeploymentConfigName),
        computePlatform: (c.ComputePlatform as 'Lambda' | 'ECS' | 'Server') ?? 'Server',
        trafficRoutingConfig: c.TrafficRoutingConfig as never,
      })),
      hookFailure: (subject) => this.hookFailure(subject),
    });
    if (saved) this.codedeploy.restore(saved.codedeploy);
    // Every deployment step changes what serves: keep it with the state.
    this.codedeploy.onProgress(() => this.saveSoon());
    for (const alarm of model.alarms) this.alarms.defineAlarm(alarm as never);
    for (const bus of model.buses) if (bus !== 'default') events.defineBus(bus);
    for (const rule of model.rules) {
      events.defineRule({
        name: rule.name,
        busName: rule.busName,
        ...(rule.eventPattern ? { eventPattern: rule.eventPattern } : {}),
        ...(rule.scheduleExpression ? { scheduleExpression: rule.scheduleExpression } : {}),
        state: rule.state,
        targets: rule.targets,
      });
    }
    this.stepFunctions = new StepFunctionsEmulator(
      model.stateMachine.arn,
      this.tokens,
      (input, name, arn) => {
        void this.launch(input, name, arn);
      },
      clock,
      () => this.nextExecutionName(),
    );

    // Calls signed with an STS session's credentials act as its role, once there is one (never
    // with no role to assume: no credentials are read per call until then).
    const sts: StsEmulator = new StsEmulator([], clock, () =>
      this.transport.actAsSessions((accessKeyId) => sts.callerOf(accessKeyId)),
    );
    const emulators = new Map<ServicePrefix, import('./twin/contracts').ServiceEmulator>([
      ['lambda', this.lambda],
      ['ecs', this.ecs],
      ['codedeploy', this.codedeploy],
      ['cloudwatch', this.alarms],
      ['events', events],
      ['states', this.stepFunctions],
      ['s3', new S3Emulator(model.buckets, options.stateDir)],
      ['secretsmanager', this.secrets],
      // The twin holds one account: it knows no role of another, so AssumeRole of a target's role
      // is refused as AWS refuses an untrusted one (decision 0028).
      ['sts', sts],
    ]);
    const roles = new RolePolicies(
      [...model.roles.values()].map((r) => ({ roleArn: r.arn, documents: r.documents })),
    );
    this.roles = roles;
    this.transport = new TwinTransport(emulators, {
      authorize: (caller, request) =>
        caller === ADMIN ? { allowed: true, decision: 'allowed' } : roles.authorize(caller, request),
      deniedMessage: (caller, request, result) => accessDeniedMessage(caller, request, result),
    });
    const tableEnv = { UPSHIFT_TABLE_NAME: model.table.name, UPSHIFT_EVENT_BUS_NAME: 'upshift' };
    const anyFunction = model.functions[0];
    this.admin = awsPorts(
      { ...tableEnv, ...(anyFunction?.environment ?? {}) },
      { ...this.transport.clientOptions(ADMIN, dynamo.endpoint), clock },
    );
    this.stores = this.admin.stores();
    this.engine = new LocalEngine(
      model.stateMachine.definition,
      (functionArn, payload) => this.invokeAs(stateMachineCaller(model), functionArn, payload),
      scheduler,
      this.tokens,
    );
    this.engine.onTransition((t) => {
      if (t.phase === 'entered' && RECONCILED_STATES.has(t.state)) this.keepReconciling();
    });
    events.onPut((entry) => this.observe(entry.event));
  }

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    process.env.UPSHIFT_LOG_LEVEL ??= 'silent';
    const saved = options.stateDir ? readSaved(options.stateDir) : undefined;
    const startAt = options.startAt ?? (saved ? new Date(saved.clock) : new Date());
    const scheduler = options.wallClock
      ? new WallClock(
          options.startAt ?? new Date(Math.max(Date.now(), saved ? Date.parse(saved.clock) : 0)),
          options.wallClock.speed ?? 1,
        )
      : new VirtualScheduler(saved && !options.startAt ? new Date(saved.clock) : startAt);
    // One level at a time: Node's recursive mkdir spins for ever under /proc (state-lock.ts).
    if (options.stateDir) ensureStateDir(options.stateDir);
    const unlock = options.stateDir ? lockStateDir(options.stateDir) : () => undefined;
    let dynamo: LocalDynamo | undefined;
    try {
      const { app } = await synthesize({
        catalog: options.catalog,
        ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
        ...(options.customizeApp ? { customize: options.customizeApp } : {}),
        ...(options.ciFeedback ? { context: { [ciFeedbackContextKey]: options.ciFeedback } } : {}),
      });
      if (options.mutateTemplates) {
        const copy = structuredClone(app);
        options.mutateTemplates(copy);
        Object.assign(app, copy);
      }
      const model = readAssembly(app);
      dynamo = await startDynalite({
        tableName: model.table.name,
        ...(options.stateDir ? { path: join(options.stateDir, 'dynamodb') } : {}),
      });
      const stack = new LocalStack(options, model, scheduler, dynamo, saved, topicsOf(app));
      stack.unlock = unlock;
      stack.apiDestinations = readApiDestinations(app);
      stack.executions = saved?.executions ?? 0;
      await stack.deploy();
      stack.abortLost(saved?.running);
      await stack.resumeSoaks();
      return stack;
    } catch (error) {
      await dynamo?.close();
      unlock();
      throw error;
    }
  }

  /**
   * What `cdk deploy` does once the resources exist: the seeding custom resources write the
   * catalog to the table; then each function's handler module is loaded with its own environment,
   * role and clients.
   */
  private async deploy(): Promise<void> {
    const client = new DynamoDBClient({
      endpoint: this.dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'deploy', secretAccessKey: 'deploy' },
    });
    try {
      for (const call of this.model.seedCalls) {
        if (call.service !== 'DynamoDB' || call.action !== 'putItem') {
          throw new Error(`the twin cannot run the deploy-time call ${call.service}.${call.action}`);
        }
        try {
          await client.send(new PutItemCommand(call.parameters as never));
        } catch (error) {
          const ignore = call.ignoreErrorCodesMatching
            ? new RegExp(call.ignoreErrorCodesMatching)
            : undefined;
          if (!ignore?.test((error as Error).name)) throw error;
        }
      }
    } finally {
      client.destroy();
    }
    for (const fn of this.model.functions) {
      this.functions.set(fn.arn, fn);
      await this.loadFunction(fn);
    }
    for (const resource of this.model.customResources) await this.createCustomResource(resource);
  }

  /**
   * A custom resource backed by a provider framework, as CloudFormation creates it: the framework
   * invokes its user function with the request, under the framework's own role (so its grant to
   * invoke is checked). The twin sends Create on every start, as a replay; the function must write
   * nothing when nothing changed (the policy seeding compares with what the last deploy seeded).
   * A failure fails the start, as it fails the deploy.
   */
  private async createCustomResource(resource: TwinModel['customResources'][number]): Promise<void> {
    const provider = this.model.providers.get(resource.serviceToken);
    if (!provider) {
      throw new Error(
        `the twin cannot create ${resource.logicalId} (${resource.type}): its service token is not a provider framework function`,
      );
    }
    await this.invokeAs(
      { roleArn: provider.roleArn, name: `cloudformation:${resource.logicalId}` },
      provider.onEventArn,
      {
        RequestType: 'Create',
        ServiceToken: resource.serviceToken,
        ResponseURL: '',
        StackId: `arn:aws:cloudformation:us-east-1:000000000000:stack/UpshiftStateless/${resource.logicalId}`,
        RequestId: `${resource.logicalId}-${this.scheduler.now().getTime()}`,
        LogicalResourceId: resource.logicalId,
        ResourceType: resource.type,
        // CloudFormation passes every property as a string.
        ResourceProperties: {
          ServiceToken: resource.serviceToken,
          ...Object.fromEntries(
            Object.entries(resource.properties).map(([k, v]) => [
              k,
              typeof v === 'string' ? v : JSON.stringify(v),
            ]),
          ),
        },
      },
    );
  }

  private async loadFunction(fn: TwinFunction): Promise<void> {
    const caller: Caller = { roleArn: fn.roleArn, name: fn.name };
    // The module's own top-level wiring reads process.env at import, as on AWS; the twin then
    // wires it again with this function's environment, role and the twin's transport.
    for (const [k, v] of Object.entries(fn.environment)) process.env[k] ??= v;
    const module = (await import(/* @vite-ignore */ pathToFileURL(join(projectRoot, fn.entry)).href)) as {
      wire?: (aws: AwsPorts) => Handler;
    };
    if (typeof module.wire !== 'function') {
      throw new Error(`${fn.entry} exports no wire(aws): the twin cannot give it its clients`);
    }
    const handler = module.wire(
      awsPorts(fn.environment, {
        ...this.transport.clientOptions(caller, this.dynamo.endpoint),
        clock: this.scheduler,
        // HTTP probes reach the twin's load balancers; raw evidence stays with the state.
        http: twinHttp(this.ecs),
        evidence: this.evidence,
      }),
    );
    const name = fn.functionName;
    this.lambda.defineFunction(name, {
      code: () => ({
        invoke: async (payload) => {
          try {
            const result = await handler(payload, lambdaContext(name, fn.timeoutSeconds));
            return { payload: result ?? null, durationMs: 0 };
          } catch (error) {
            const e = error as Error;
            return {
              functionError: 'Unhandled',
              payload: { errorType: e.name || 'Error', errorMessage: e.message },
              durationMs: 0,
            };
          }
        },
      }),
      resourcePolicy: this.model.functionPermissions.get(fn.arn) ?? [],
    });
  }

  /** Invokes a function as `caller` through the Lambda API; a function error is thrown by its type. */
  private async invokeAs(caller: Caller, functionArn: string, payload: unknown): Promise<unknown> {
    let out: Record<string, unknown>;
    try {
      out = await this.transport.call(caller, 'lambda', 'Invoke', {
        FunctionName: functionArn,
        Payload: new TextEncoder().encode(JSON.stringify(payload ?? null)),
      });
    } catch (error) {
      // Step Functions names Lambda's own errors (not the function's) `Lambda.<Exception>`, which
      // is what the ASL's Retry matches (Lambda.ServiceException, Lambda.TooManyRequestsException...).
      // A fault named Sandbox.Timedout stands for the function running out of time: that is the
      // function's error, and reaches the ASL under its own name.
      const e = error as Error;
      if (e.name === 'Sandbox.Timedout') throw e;
      const named = new Error(e.message);
      named.name = `Lambda.${e.name}`;
      throw named;
    }
    const text = out.Payload ? new TextDecoder().decode(out.Payload as Uint8Array) : 'null';
    const body = JSON.parse(text) as unknown;
    if (out.FunctionError) {
      const { errorType, errorMessage } = (body ?? {}) as { errorType?: string; errorMessage?: string };
      const e = new Error(errorMessage ?? 'function error');
      e.name = errorType ?? 'Error';
      throw e;
    }
    return body;
  }

  /**
   * EventBridge delivers to a rule target as AWS does: a state machine through StartExecution with
   * the target's role; a function through Invoke, allowed by the function's resource policy for
   * events.amazonaws.com from that rule.
   */
  private async deliver(target: RuleTarget, event: BusEvent, rule: RuleSpec): Promise<void> {
    const payload = target.input ? JSON.parse(target.input) : event;
    if (target.arn.includes(':states:')) {
      if (!target.roleArn) throw new Error(`rule ${rule.name} targets a state machine without a role`);
      await this.transport.call(
        { roleArn: target.roleArn, name: `events:${rule.name}` },
        'states',
        'StartExecution',
        {
          stateMachineArn: target.arn,
          input: JSON.stringify(payload),
        },
      );
      return;
    }
    if (target.arn.includes(':lambda:')) {
      const ruleArn = this.model.rules.find((r) => r.name === rule.name)?.arn ?? '';
      const request: AuthorizationRequest = {
        action: 'lambda:InvokeFunction',
        resource: target.arn,
        context: { 'aws:SourceArn': ruleArn },
      };
      const result = evaluateResourcePolicy(this.model.functionPermissions.get(target.arn) ?? [], {
        ...request,
        principalService: 'events.amazonaws.com',
      });
      if (!result.allowed) {
        throw new Error(
          `EventBridge may not invoke ${target.arn} for rule ${rule.name}: no resource-based policy allows events.amazonaws.com`,
        );
      }
      const out = await this.lambda.handle(
        'Invoke',
        { FunctionName: target.arn, Payload: new TextEncoder().encode(JSON.stringify(payload)) },
        { roleArn: 'service:events.amazonaws.com', name: `events:${rule.name}` },
      );
      if (out.FunctionError) {
        const text = new TextDecoder().decode(out.Payload as Uint8Array);
        throw new Error(`${target.arn} failed: ${text.slice(0, 500)}`);
      }
      return;
    }
    if (target.arn.includes(':sns:')) {
      // The rule's InputPath picks what the topic sends (the approval's one-line summary).
      const ruleArn = this.model.rules.find((r) => r.name === rule.name)?.arn ?? '';
      const message = target.inputPath ? readEventPath(event, target.inputPath) : payload;
      this.sns.publishFromService(
        'events.amazonaws.com',
        ruleArn,
        target.arn,
        typeof message === 'string' ? message : JSON.stringify(message),
      );
      return;
    }
    if (target.arn.includes(':api-destination/')) {
      await this.deliverToApiDestination(target, event, rule);
      return;
    }
    throw new Error(`the twin cannot deliver to ${target.arn}`);
  }

  /**
   * An API destination target (local/twin/api-destinations.ts): the target's role must allow
   * events:InvokeApiDestination on it; then the HTTP request with the connection's credentials.
   */
  private async deliverToApiDestination(target: RuleTarget, event: BusEvent, rule: RuleSpec): Promise<void> {
    const destination = this.apiDestinations.destinations.get(target.arn);
    const connection = destination && this.apiDestinations.connections.get(destination.connectionArn);
    if (!destination || !connection) {
      throw Object.assign(new Error(`rule ${rule.name}: no API destination ${target.arn}`), {
        name: 'ResourceNotFoundException',
      });
    }
    const caller: Caller = { roleArn: target.roleArn ?? '', name: `events:${rule.name}` };
    const request: AuthorizationRequest = { action: 'events:InvokeApiDestination', resource: target.arn };
    const result = this.roles.authorize(caller, request);
    if (!target.roleArn || !result.allowed) {
      throw Object.assign(new Error(accessDeniedMessage(caller, request, result)), {
        name: 'AccessDeniedException',
      });
    }
    const ruleArn = this.model.rules.find((r) => r.name === rule.name)?.arn ?? '';
    await invokeApiDestination({
      destination,
      connection,
      target,
      event,
      rule: { name: rule.name, arn: ruleArn },
      secrets: this.secrets,
    });
  }

  /**
   * PutEvents as a caller outside the app sends it (CI through `upshift up`'s endpoint): the
   * entries go through the API's validation and the buses' rules unchanged, with what CI
   * published before announcing it (a Lambda version) made to exist first.
   */
  async putEvents(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const entries = Array.isArray(input.Entries) ? (input.Entries as Record<string, unknown>[]) : [];
    for (const entry of entries) {
      try {
        this.publishArtifacts({ detail: JSON.parse(String(entry.Detail ?? 'null')) });
      } catch {
        // A detail that is not JSON is the API's to refuse, entry by entry.
      }
    }
    return this.events.handle('PutEvents', input, ADMIN);
  }

  /**
   * Invokes one of the app's functions (by its construct name) as API Gateway does for a route's
   * integration: the function's resource policy must allow apigateway.amazonaws.com. Returns
   * what the function returned; a function error is thrown.
   */
  async invokeFromApi(name: string, event: unknown): Promise<unknown> {
    const fn = this.model.functions.find((f) => f.name === name);
    if (!fn) throw new Error(`the app has no function ${name}`);
    const statements = this.model.functionPermissions.get(fn.arn) ?? [];
    const allowed = statements.some((st) => {
      const source = (st.Condition?.ArnLike as Record<string, string> | undefined)?.['aws:SourceArn'];
      return evaluateResourcePolicy([st], {
        action: 'lambda:InvokeFunction',
        resource: fn.arn,
        principalService: 'apigateway.amazonaws.com',
        ...(source ? { context: { 'aws:SourceArn': source } } : {}),
      }).allowed;
    });
    if (!allowed)
      throw new Error(`API Gateway may not invoke ${fn.functionName}: no resource-based policy allows it`);
    const out = await this.lambda.handle(
      'Invoke',
      { FunctionName: fn.arn, Payload: new TextEncoder().encode(JSON.stringify(event)) },
      { roleArn: 'service:apigateway.amazonaws.com', name: 'apigateway' },
    );
    const body = JSON.parse(new TextDecoder().decode(out.Payload as Uint8Array)) as unknown;
    if (out.FunctionError) {
      const e = body as { errorType?: string; errorMessage?: string };
      throw new Error(`${fn.functionName} failed: ${e.errorType}: ${e.errorMessage}`);
    }
    return body;
  }

  /** Starts the execution the Step Functions API accepted. */
  private launch(input: unknown, name: string, executionArn: string): Promise<ExecutionResult> {
    const startDate = this.scheduler.now().getTime();
    const inputText = JSON.stringify(input ?? null).slice(0, 262_144);
    this.runningExecutions.set(executionArn, { name, startDate, input: inputText });
    this.statusChanged(executionArn, name, 'RUNNING', startDate, undefined, inputText);
    // At once, not on the next turn: a process killed in the execution's first step must still
    // leave it listed, so the next start can end it.
    if (this.options.stateDir && !this.closed) this.save();
    const run = this.engine.execute(input, name, executionArn);
    this.running.add(run);
    this.releaseIdle?.();
    this.releaseIdle = undefined;
    void run.then((result) => {
      this.runningExecutions.delete(executionArn);
      const status =
        result.status === 'SUCCEEDED'
          ? 'SUCCEEDED'
          : result.error === 'States.Timeout' && result.cause?.startsWith('the execution did not finish')
            ? 'TIMED_OUT'
            : 'FAILED';
      this.statusChanged(executionArn, name, status, startDate, result, inputText);
      this.saveSoon();
    });
    void run.finally(() => {
      this.running.delete(run);
      if (this.running.size === 0 && this.soakTicks === 0 && !this.closed)
        this.releaseIdle ??= this.scheduler.freeze();
    });
    return run;
  }

  /**
   * Step Functions puts `Step Functions Execution Status Change` on the default bus for every
   * status of a Standard execution; the app's rules act on the abnormal ends.
   */
  private statusChanged(
    executionArn: string,
    name: string,
    status: string,
    startDate: number,
    result?: { error?: string; cause?: string },
    input?: string,
  ): void {
    this.events.putFromService('default', {
      source: 'aws.states',
      detailType: 'Step Functions Execution Status Change',
      resources: [executionArn],
      detail: {
        executionArn,
        stateMachineArn: this.model.stateMachine.arn,
        name,
        status,
        startDate,
        stopDate: status === 'RUNNING' ? null : this.scheduler.now().getTime(),
        error: result?.error ?? null,
        cause: result?.cause?.slice(0, 32_768) ?? null,
        input: input ?? null,
      },
    });
  }

  /**
   * Keeps the emulators' state in the state folder as it changes, so a process that dies keeps
   * what AWS would have kept (DynamoDB is on disk already). Coalesced to one write per turn.
   */
  private saveSoon(): void {
    if (!this.options.stateDir || this.saving || this.closed) return;
    this.saving = true;
    setImmediate(() => {
      this.saving = false;
      if (!this.closed) this.save();
    });
  }

  private save(): void {
    const dir = this.options.stateDir;
    if (!dir) return;
    const state: SavedState = {
      clock: this.scheduler.now().toISOString(),
      executions: this.executions,
      running: [...this.runningExecutions].map(([arn, e]) => ({ arn, ...e })),
      lambda: this.lambda.snapshot(),
      ecs: this.ecs.snapshot(),
      codedeploy: this.codedeploy.snapshot(),
      cloudwatch: this.alarms.snapshot(),
      events: this.events.snapshot(),
    };
    // Write then rename: a process killed mid-write leaves the previous state whole.
    const file = join(dir, 'simulators.json');
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state)}\n`);
    renameSync(`${file}.tmp`, file);
  }

  /**
   * Executions a dead process left running cannot resume (the engine's state was in memory). As
   * if an operator had stopped them, each ends ABORTED, and its status change reaches the app's
   * rule, which closes what it left open.
   */
  private abortLost(lost: SavedState['running']): void {
    for (const e of lost ?? []) {
      this.statusChanged(
        e.arn,
        e.name,
        'ABORTED',
        e.startDate,
        {
          error: 'States.Aborted',
          cause: 'the local process that ran this execution stopped before it ended',
        },
        e.input,
      );
    }
  }

  private nextExecutionName(): string {
    this.executions++;
    return `local-${String(this.executions).padStart(5, '0')}-${this.ids.next('wf').slice(3)}`;
  }

  /**
   * Starts one execution with the event as its input, as the rule's target would (the events
   * role's StartExecution); the event is not matched against patterns, so a malformed one is
   * recorded INVALID by Intake rather than dropped by a rule.
   */
  startExecution(input: unknown): Promise<ExecutionResult> {
    this.publishArtifacts(input);
    const name = this.nextExecutionName();
    const executionArn = `${this.model.stateMachine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    return this.launch(input, name, executionArn);
  }

  /** Runs one event (or unparsable text) to its end and returns the workflow record. */
  async run(event: unknown): Promise<RunResult> {
    const execution = await this.startExecution(event);
    const record = await this.stores.workflows.get(execution.name);
    return { execution, record };
  }

  /** Runs raw file content: JSON is delivered as is; anything else is recorded as INVALID. */
  async runText(text: string): Promise<RunResult> {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (error) {
      event = { [UNPARSABLE]: text.slice(0, 2000), parseError: (error as Error).message };
    }
    return this.run(event);
  }

  /**
   * PutEvents on a bus, as CI does with its own credentials: the event goes through the API's
   * validation and the bus's rules. Returns the names of the rules it matched and the id
   * EventBridge gave the event (workflow records keep it as `eventId`).
   */
  async publish(event: BusEvent, busName = 'upshift'): Promise<{ rules: string[]; eventId: string }> {
    this.publishArtifacts(event);
    const before = this.events.log.length;
    const out = await this.events.handle(
      'PutEvents',
      {
        Entries: [
          {
            EventBusName: busName,
            Source: event.source,
            DetailType: event['detail-type'],
            Detail: JSON.stringify(event.detail),
            Resources: event.resources,
            ...(event.time ? { Time: new Date(event.time) } : {}),
          },
        ],
      },
      ADMIN,
    );
    const entry = (
      out.Entries as { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] | undefined
    )?.[0];
    if (entry?.ErrorCode)
      throw new Error(`PutEvents refused the event: ${entry.ErrorCode}: ${entry.ErrorMessage}`);
    return { rules: this.events.log.slice(before).flatMap((e) => e.rules), eventId: entry?.EventId ?? '' };
  }

  /**
   * Local CI's part: before it announces a version, CI has published it (a Lambda version, an
   * image). The twin does the same for the events it is given, so probes and deployments find it.
   */
  publishArtifacts(event: unknown): void {
    const detail = (event as { detail?: Record<string, unknown> } | undefined)?.detail;
    if (!detail || typeof detail !== 'object') return;
    const artifact = detail.artifact as
      | { type?: string; functionName?: string; functionVersion?: string }
      | undefined;
    const version = typeof detail.version === 'string' ? detail.version : undefined;
    // And the versions CI published for a promotion wave's later stages (docs/waves.md).
    const metadata = detail.metadata as { artifacts?: unknown } | undefined;
    const later =
      metadata?.artifacts && typeof metadata.artifacts === 'object' ? Object.values(metadata.artifacts) : [];
    for (const candidate of [artifact, ...later] as (typeof artifact)[]) {
      if (
        candidate?.type === 'lambda' &&
        typeof candidate.functionName === 'string' &&
        typeof candidate.functionVersion === 'string' &&
        /^[1-9]\d{0,8}$/.test(candidate.functionVersion) &&
        version &&
        this.lambda.hasFunction(candidate.functionName)
      ) {
        ensureLambdaVersion(this.lambda, candidate.functionName, candidate.functionVersion, version);
      }
    }
    const repository = detail['repository-name'];
    const digest = detail['image-digest'];
    const tag = detail['image-tag'];
    if (typeof repository === 'string' && typeof digest === 'string' && typeof tag === 'string') {
      for (const uri of imageUris(repository, digest)) this.ecs.labelImage(uri, tag);
    }
  }

  /** A version's BeforeAllowTraffic hook fails when its catalog profile says so. */
  private hookFailure(subject: {
    applicationName: string;
    deploymentGroupName: string;
    target: string;
  }): string | undefined {
    const componentName = subject.applicationName.replace(/^upshift-/, '');
    const component = Object.hasOwn(this.options.catalog.components, componentName)
      ? this.options.catalog.components[componentName]
      : undefined;
    if (component?.local.kind !== 'profiles') return undefined;
    // The group is `<component>-<environment>`: that environment's own target.
    const target = targetFor(component, subject.deploymentGroupName.slice(componentName.length + 1));
    const label =
      target.type === 'lambda'
        ? this.lambda.codeLabel(target.functionName, subject.target)
        : this.ecs.codeLabelOf(subject.target);
    if (!label) return undefined;
    return (component.local.versions[label] ?? component.local.defaultProfile).deployFailure;
  }

  /**
   * The reconciler's schedule fires every minute on AWS. Here it fires on the same minute grid
   * while a deployment wait or a bake is pending, and at the first tick after an approval falls due:
   * at any other tick it would find nothing to do (docs/local-runtime.md).
   */
  private keepReconciling(): void {
    if (this.reconcileTicking) return;
    const rule = this.model.rules.find((r) => r.scheduleExpression);
    if (!rule) return;
    this.reconcileTicking = true;
    const tick = async () => {
      if (this.closed) return;
      this.events.fireSchedule(rule.name);
      const [waits, bakes] = await Promise.all([
        this.stores.deploymentWaits.listPending(1),
        this.stores.bakeWatches.listPending(1),
      ]);
      const next = this.events.nextScheduledFire(rule.name);
      if ((waits.length || bakes.length) && next) this.scheduler.at(next.getTime(), tick);
      else this.reconcileTicking = false;
    };
    const first = this.events.nextScheduledFire(rule.name);
    if (first) this.scheduler.at(first.getTime(), tick);
    else this.reconcileTicking = false;
  }

  /** Watches what is put on the buses: due approvals tick the reconciler; --approve answers. */
  private observe(event: BusEvent): void {
    if (event.source === 'upshift' && event['detail-type'] === WAVE_UPDATED) this.tickForSoak(event);
    if (event.source !== 'upshift' || event['detail-type'] !== 'Approval Requested') return;
    const rule = this.model.rules.find((r) => r.scheduleExpression);
    const due = Date.parse(String(event.detail.expiresAt));
    if (rule && Number.isFinite(due)) {
      const tickAt = this.events.nextScheduledFire(rule.name, due - 1);
      if (tickAt) {
        this.scheduler.at(tickAt.getTime(), () => {
          if (!this.closed) this.events.fireSchedule(rule.name);
        });
      }
    }
    // The one reminder before expiry: the reminder rule's schedule fires when it is due.
    const remindAt = Date.parse(String(event.detail.remindAt));
    const reminders = this.reminderRule();
    if (reminders && Number.isFinite(remindAt)) {
      const fireAt = this.events.nextScheduledFire(reminders.name, remindAt - 1);
      if (fireAt && (!Number.isFinite(due) || fireAt.getTime() < due)) {
        this.scheduler.at(fireAt.getTime(), () => {
          if (!this.closed) this.events.fireSchedule(reminders.name);
        });
      }
    }
    const answer = this.options.autoAnswer;
    if (!answer) return;
    this.scheduler.at(this.scheduler.now().getTime(), async () => {
      for (const by of Array.isArray(answer.by) ? answer.by : [answer.by]) {
        const result = await decideApproval(
          {
            approvalId: String(event.detail.approvalId),
            approve: answer.approve,
            by,
            ...(answer.groupsOf && Object.hasOwn(answer.groupsOf, by)
              ? { groups: answer.groupsOf[by] ?? [] }
              : answer.groups
                ? { groups: answer.groups }
                : {}),
            ...(answer.comment ? { comment: answer.comment } : {}),
          },
          {
            approvals: this.stores.approvals,
            callbacks: this.admin.callbacks(),
            workflows: this.stores.workflows,
            clock: this.scheduler,
          },
        ).catch((error: Error) => {
          // A refused approver (the publisher, outside the groups) is recorded and the rest vote.
          process.stderr.write(`upshift: ${by} could not answer: ${error.message}\n`);
          return undefined;
        });
        if (result && result.status !== 'PENDING') break;
      }
    });
  }

  /**
   * A wave's soak (or a recheck held by `after`) is due at `nextCheckAt`: the reconciler's
   * schedule fires at its first minute after, and virtual time passes until then even with no
   * execution running, as it would on AWS (docs/waves.md).
   */
  private tickForSoak(event: BusEvent): void {
    this.tickForSoakAt(String(event.detail.nextCheckAt));
    // A stage held by `after` is announced once, when it begins to wait; a change of any wave (the
    // one it waits for) is when its recheck can find something new: its pending item ticks then.
    // Counted as a tick while it reads, so that a drain does not end before it.
    this.soakTicks++;
    void this.resumeSoaks().finally(() => {
      this.soakTicks--;
      if (this.running.size === 0 && this.soakTicks === 0) this.releaseIdle ??= this.scheduler.freeze();
    });
  }

  /** Soaks a kept state left pending (the first 100): the schedule fires at each one's end. */
  private async resumeSoaks(): Promise<void> {
    for (const soak of await this.stores.waves.listPendingSoaks(100)) this.tickForSoakAt(soak.until);
  }

  private tickForSoakAt(nextCheckAt: string): void {
    const rule = this.model.rules.find((r) => r.scheduleExpression);
    const due = Date.parse(nextCheckAt);
    if (!rule || !Number.isFinite(due)) return;
    const tickAt = this.events.nextScheduledFire(rule.name, due - 1);
    if (!tickAt || this.soakTickTimes.has(tickAt.getTime())) return;
    this.soakTickTimes.add(tickAt.getTime());
    this.soakTicks++;
    this.releaseIdle?.();
    this.releaseIdle = undefined;
    this.scheduler.at(tickAt.getTime(), () => {
      this.soakTickTimes.delete(tickAt.getTime());
      this.soakTicks--;
      if (this.closed) return;
      this.events.fireSchedule(rule.name);
      if (this.running.size === 0 && this.soakTicks === 0) this.releaseIdle ??= this.scheduler.freeze();
    });
  }

  /** The scheduled rule that targets the ApprovalReminders function, if the app has one. */
  private reminderRule() {
    const fn = this.model.functions.find((f) => f.name === 'ApprovalReminders');
    return fn
      ? this.model.rules.find((r) => r.scheduleExpression && r.targets.some((t) => t.arn === fn.arn))
      : undefined;
  }

  /** Waits until every execution started so far has ended. */
  async drain(): Promise<void> {
    // Executions, and what is due at the instant they end (rule deliveries that may start more).
    while (this.running.size || this.soakTicks || !this.scheduler.quietNow()) {
      if (this.running.size) await Promise.allSettled([...this.running]);
      else await new Promise((r) => setImmediate(r));
    }
  }

  async close(): Promise<void> {
    // On the wall clock (`upshift up`) an execution may wait for a person for a day: stop now.
    if (this.scheduler instanceof WallClock) this.scheduler.stop();
    else await this.drain();
    this.closed = true;
    this.releaseIdle?.();
    this.releaseIdle = undefined;
    await this.scheduler.settled();
    this.save();
    await this.dynamo.close();
    this.unlock();
  }
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

function lambdaContext(functionName: string, timeoutSeconds: number) {
  return {
    functionName,
    functionVersion: '$LATEST',
    awsRequestId: Math.random().toString(16).slice(2),
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => timeoutSeconds * 1000,
  };
}

function stateMachineCaller(model: TwinModel): Caller {
  return { roleArn: model.stateMachine.roleArn, name: model.stateMachine.name };
}

/** The image URIs an ECR push makes addressable: by digest, as Upshift pins them. */
function imageUris(repository: string, digest: string): string[] {
  return [`000000000000.dkr.ecr.us-east-1.amazonaws.com/${repository}@${digest}`];
}

/** AWS::CodeDeploy::DeploymentGroup's properties as the CodeDeploy API names them. */
function deploymentGroupSpec(g: Record<string, unknown>): DeploymentGroupSpec {
  const alarms = g.AlarmConfiguration as
    | { Enabled?: boolean; IgnorePollAlarmFailure?: boolean; Alarms?: { Name: string }[] }
    | undefined;
  const rollback = g.AutoRollbackConfiguration as { Enabled?: boolean; Events?: string[] } | undefined;
  const services = g.ECSServices as { ClusterName: string; ServiceName: string }[] | undefined;
  return {
    applicationName: String(g.ApplicationName),
    deploymentGroupName: String(g.DeploymentGroupName),
    ...(g.DeploymentConfigName ? { deploymentConfigName: String(g.DeploymentConfigName) } : {}),
    ...(alarms
      ? {
          alarmConfiguration: {
            ...(alarms.Enabled !== undefined ? { enabled: alarms.Enabled } : {}),
            ...(alarms.IgnorePollAlarmFailure !== undefined
              ? { ignorePollAlarmFailure: alarms.IgnorePollAlarmFailure }
              : {}),
            alarms: (alarms.Alarms ?? []).map((a) => ({ name: a.Name })),
          },
        }
      : {}),
    ...(rollback
      ? {
          autoRollbackConfiguration: {
            ...(rollback.Enabled !== undefined ? { enabled: rollback.Enabled } : {}),
            events: rollback.Events ?? [],
          },
        }
      : {}),
    ...(services
      ? { ecsServices: services.map((x) => ({ clusterName: x.ClusterName, serviceName: x.ServiceName })) }
      : {}),
  };
}

/** `$.detail.summary` and the like: the value an InputPath selects from the event. */
function readEventPath(event: unknown, path: string): unknown {
  let value: unknown = event;
  for (const key of path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

function readSaved(dir: string): SavedState | undefined {
  const file = join(dir, 'simulators.json');
  if (!existsSync(file)) return undefined;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<SavedState>;
  // A state folder from before the twin holds other simulators: start its emulators afresh.
  if (!saved.lambda || !saved.codedeploy) return undefined;
  return saved as SavedState;
}
