import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dynamoStores, type Stores } from '../shared/aws/dynamo-store';
import type { Catalog } from '../shared/domain/catalog';
import { rulePatterns, upgradeTriggerRules } from '../shared/domain/patterns';
import type { WorkflowRecord } from '../shared/domain/workflow';
import { timeOrderedIds } from '../shared/runtime/system';
import { decideApproval } from '../shared/usecases/decide-approval';
import { expireApprovals } from '../shared/usecases/expire-approvals';
import { UNPARSABLE } from '../shared/usecases/resolve-event';
import { CloudWatchSimulator } from './cloudwatch-sim';
import { CodeDeploySimulator } from './codedeploy-sim';
import { type LocalDynamo, startDynalite } from './dynalite';
import { type ExecutionResult, type LambdaHandler, LocalEngine } from './engine';
import { type BusEvent, LocalEventBus } from './event-bus';
import { VirtualScheduler } from './scheduler';
import { lockStateDir } from './state-lock';
import { LocalProber, LocalTargets } from './targets';
import { LocalTaskTokens } from './task-tokens';
import { LiveTraffic } from './traffic';

export const aslPath = fileURLToPath(new URL('../statemachines/upgrade.asl.json', import.meta.url));

/** Poll interval of the fallback deployment loop, in virtual seconds. */
export const LOCAL_POLL_SECONDS = 30;
/** The reconciler runs every minute, as its schedule does on AWS. */
export const RECONCILE_EVERY_MS = 60_000;
/** How often the reconciler polls one deployment, in virtual seconds. */
export const LOCAL_RECONCILE_SECONDS = 300;

export interface LocalStackOptions {
  catalog: Catalog;
  /** Keep DynamoDB and the simulators' state here between runs; in memory when absent. */
  stateDir?: string;
  /** Start of virtual time. */
  startAt?: Date;
  /** Answer every approval request at once (the CLI's --approve / --reject). */
  /**
   * Answer every approval request at once (the CLI's --approve / --reject). With several
   * approvers, each votes in turn, for a quorum; `groups` are theirs.
   */
  autoAnswer?: { approve: boolean; by: string | string[]; groups?: string[]; comment?: string };
}

export interface RunResult {
  execution: ExecutionResult;
  record: WorkflowRecord | undefined;
}

interface SavedState {
  clock: string;
  traffic: ReturnType<LiveTraffic['snapshot']>;
  alarms: ReturnType<CloudWatchSimulator['snapshot']>;
  deployments: ReturnType<CodeDeploySimulator['snapshot']>;
  executions: number;
}

/**
 * The whole of Upshift in one process: dynalite, the real ASL on aws-local-stepfunctions with
 * every Task mapped to the real handler modules, the local bus, and the CodeDeploy and CloudWatch
 * simulators, all on one virtual clock.
 */
export class LocalStack {
  private executions = 0;
  private running = new Set<Promise<ExecutionResult>>();
  private unlock: () => void = () => undefined;

  private constructor(
    readonly options: LocalStackOptions,
    readonly scheduler: VirtualScheduler,
    readonly dynamo: LocalDynamo,
    readonly stores: Stores,
    readonly bus: LocalEventBus,
    readonly traffic: LiveTraffic,
    readonly alarms: CloudWatchSimulator,
    readonly codedeploy: CodeDeploySimulator,
    readonly tokens: LocalTaskTokens,
    readonly engine: LocalEngine,
  ) {}

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    process.env.UPSHIFT_TABLE_NAME ??= 'upshift';
    process.env.UPSHIFT_EVENT_BUS_NAME ??= 'upshift';
    process.env.UPSHIFT_LOG_LEVEL ??= 'silent';
    process.env.AWS_REGION ??= 'us-east-1';

    const saved = options.stateDir ? readSaved(options.stateDir) : undefined;
    const startAt = options.startAt ?? (saved ? new Date(saved.clock) : new Date());
    const scheduler = new VirtualScheduler(saved && !options.startAt ? new Date(saved.clock) : startAt);
    if (options.stateDir) mkdirSync(join(options.stateDir, 'dynamodb'), { recursive: true });
    const unlock = options.stateDir ? lockStateDir(options.stateDir) : () => undefined;
    let dynamo: LocalDynamo | undefined;
    try {
      dynamo = await startDynalite(options.stateDir ? { path: join(options.stateDir, 'dynamodb') } : {});
      const stack = await LocalStack.assemble(options, saved, scheduler, dynamo);
      stack.unlock = unlock;
      return stack;
    } catch (error) {
      await dynamo?.close();
      unlock();
      throw error;
    }
  }

  private static async assemble(
    options: LocalStackOptions,
    saved: SavedState | undefined,
    scheduler: VirtualScheduler,
    dynamo: LocalDynamo,
  ): Promise<LocalStack> {
    const stores = dynamoStores(dynamo.document, dynamo.tableName);
    const at = scheduler.now().toISOString();
    await stores.catalog.putComponents(options.catalog, 'local', at);
    // Catalog policies are the starting point; a policy already edited in a kept state stays.
    for (const [env, policy] of Object.entries(options.catalog.policies)) {
      if (!(await stores.policies.get(env))) await stores.policies.put(env, policy, 'catalog', at);
    }

    const components = () => options.catalog.components;
    const bus = new LocalEventBus(scheduler);
    const traffic = new LiveTraffic();
    const targets = new LocalTargets(components);
    const alarms = new CloudWatchSimulator(scheduler, traffic, targets, components, bus);
    const codedeploy = new CodeDeploySimulator(scheduler, traffic, alarms, bus, (c, v) =>
      targets.deployFailure(c, v),
    );
    const tokens = new LocalTaskTokens();
    if (saved) {
      traffic.restore(saved.traffic);
      alarms.restore(saved.alarms);
      codedeploy.restore(saved.deployments);
    }
    const nowMs = scheduler.now().getTime();
    for (const [name, component] of Object.entries(options.catalog.components)) {
      for (const [env, config] of Object.entries(component.environments)) {
        traffic.seed(LiveTraffic.key(name, env), config.baseline.version, nowMs);
        alarms.register(name, env, nowMs);
      }
    }

    const handlers = await localHandlers({
      callbacks: tokens,
      stores,
      clock: scheduler,
      prober: new LocalProber(targets),
      deployer: codedeploy,
      alarms,
      events: bus,
    });
    const engine = new LocalEngine(loadDefinition(), handlers, scheduler, tokens);
    const stack = new LocalStack(
      options,
      scheduler,
      dynamo,
      stores,
      bus,
      traffic,
      alarms,
      codedeploy,
      tokens,
      engine,
    );
    stack.executions = saved?.executions ?? 0;

    // The rules the stateless stack deploys for CodeDeploy and CloudWatch events.
    const lambdaContext = {
      functionName: 'local',
      awsRequestId: 'local',
      getRemainingTimeInMillis: () => 60_000,
    };
    bus.addRule('codeDeployDeploymentEnded', rulePatterns.codeDeployDeploymentEnded, async (event) => {
      await (handlers.DeploymentEventsFunctionArn as LambdaHandler)(event, lambdaContext);
    });
    bus.addRule('alarmEnteredAlarm', rulePatterns.alarmEnteredAlarm, async (event) => {
      await (handlers.AlarmEventsFunctionArn as LambdaHandler)(event, lambdaContext);
    });
    // The reconciler's schedule: every minute of virtual time while something waits on it.
    let reconciling = false;
    const tick = async () => {
      await (handlers.ReconcileFunctionArn as LambdaHandler)({}, lambdaContext);
      const [waits, bakes] = await Promise.all([
        stores.deploymentWaits.listPending(1),
        stores.bakeWatches.listPending(1),
      ]);
      if (waits.length || bakes.length) scheduler.at(scheduler.now().getTime() + RECONCILE_EVERY_MS, tick);
      else reconciling = false;
    };
    engine.onTransition((t) => {
      if (t.phase !== 'entered' || reconciling) return;
      if (!['WaitForDeployment', 'WaitForRevert', 'Bake'].includes(t.state)) return;
      reconciling = true;
      scheduler.at(scheduler.now().getTime() + RECONCILE_EVERY_MS, tick);
    });

    for (const rule of upgradeTriggerRules) {
      // StartExecution returns at once; the execution runs on its own.
      bus.addRule(rule, rulePatterns[rule], (event) => {
        void stack.startExecution(event);
      });
    }
    // On AWS the reconciler expires approvals every minute; locally also at the exact instant they fall due.
    bus.addRule(
      'expire-approvals',
      { source: ['upshift'], 'detail-type': ['Approval Requested'] },
      (event) => {
        const due = Date.parse(String(event.detail.expiresAt));
        scheduler.at(due, async () => {
          await expireApprovals({
            approvals: stores.approvals,
            callbacks: tokens,
            workflows: stores.workflows,
            clock: scheduler,
          });
        });
      },
    );
    if (options.autoAnswer) {
      const answer = options.autoAnswer;
      bus.addRule(
        'auto-answer',
        { source: ['upshift'], 'detail-type': ['Approval Requested'] },
        async (event) => {
          for (const by of Array.isArray(answer.by) ? answer.by : [answer.by]) {
            const result = await decideApproval(
              {
                approvalId: String(event.detail.approvalId),
                approve: answer.approve,
                by,
                ...(answer.groups ? { groups: answer.groups } : {}),
                ...(answer.comment ? { comment: answer.comment } : {}),
              },
              {
                approvals: stores.approvals,
                callbacks: tokens,
                workflows: stores.workflows,
                clock: scheduler,
              },
            ).catch((error: Error) => {
              // A refused approver (the publisher, outside the groups) is recorded and the rest vote.
              process.stderr.write(`upshift: ${by} could not answer: ${error.message}\n`);
              return undefined;
            });
            if (result && result.status !== 'PENDING') break;
          }
        },
      );
    }
    return stack;
  }

  /** Starts one execution with the event as its input, as an EventBridge rule target would. */
  startExecution(input: unknown): Promise<ExecutionResult> {
    this.executions++;
    const name = `local-${String(this.executions).padStart(5, '0')}-${timeOrderedIds(this.scheduler).next('wf').slice(3)}`;
    const run = this.engine.execute(input, name);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
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

  /** PutEvents on the local bus: rules start the workflows they match. */
  publish(event: BusEvent): string[] {
    return this.bus.put(event);
  }

  /** Waits until every execution started so far has ended. */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  async close(): Promise<void> {
    await this.drain();
    await this.scheduler.settled();
    if (this.options.stateDir) {
      const state: SavedState = {
        clock: this.scheduler.now().toISOString(),
        traffic: this.traffic.snapshot(),
        alarms: this.alarms.snapshot(),
        deployments: this.codedeploy.snapshot(),
        executions: this.executions,
      };
      writeFileSync(join(this.options.stateDir, 'simulators.json'), `${JSON.stringify(state)}\n`);
    }
    await this.dynamo.close();
    this.unlock();
  }
}

/**
 * The ASL with its definitionSubstitutions filled in with local function ARNs, as CloudFormation
 * fills them with real ones on AWS.
 */
export function loadDefinition(): { States: Record<string, Record<string, unknown>> } {
  const text = readFileSync(aslPath, 'utf8').replace(
    /\$\{(\w+)FunctionArn\}/g,
    (_, name: string) => `arn:aws:lambda:us-east-1:000000000000:function:upshift-${name}`,
  );
  return JSON.parse(text);
}

function readSaved(dir: string): SavedState | undefined {
  const file = join(dir, 'simulators.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as SavedState;
}

/**
 * The handler of every Task, built by each function's own createHandler with local ports. The
 * DynamoDB repositories are the same code as on AWS, talking to dynalite.
 */
async function localHandlers(ports: {
  stores: Stores;
  clock: VirtualScheduler;
  prober: LocalProber;
  deployer: CodeDeploySimulator;
  alarms: CloudWatchSimulator;
  events: LocalEventBus;
  callbacks: LocalTaskTokens;
}): Promise<Record<string, LambdaHandler>> {
  const { stores, clock, prober, deployer, alarms, events, callbacks } = ports;
  const ids = timeOrderedIds(clock);
  const [
    intake,
    lock,
    verify,
    decide,
    requestApproval,
    deploy,
    check,
    awaitDeployment,
    startBake,
    bake,
    record,
    deploymentEvents,
    alarmEvents,
    reconcile,
  ] = await Promise.all([
    import('../functions/intake/handler'),
    import('../functions/lock/handler'),
    import('../functions/verify/handler'),
    import('../functions/decide/handler'),
    import('../functions/request-approval/handler'),
    import('../functions/deploy/handler'),
    import('../functions/check-deployment/handler'),
    import('../functions/await-deployment/handler'),
    import('../functions/start-bake/handler'),
    import('../functions/bake/handler'),
    import('../functions/record/handler'),
    import('../functions/deployment-events/handler'),
    import('../functions/alarm-events/handler'),
    import('../functions/reconcile/handler'),
  ]);
  const h = (x: (event: unknown, context: never) => unknown) => x as unknown as LambdaHandler;
  const outcomePorts = { catalog: stores.catalog, deployer, alarms, clock };
  const finishDeployment = {
    ...outcomePorts,
    waits: stores.deploymentWaits,
    callbacks,
    workflows: stores.workflows,
  };
  const finishBake = {
    watches: stores.bakeWatches,
    alarms,
    callbacks,
    workflows: stores.workflows,
    clock,
    pollSeconds: LOCAL_POLL_SECONDS,
  };
  return {
    IntakeFunctionArn: h(
      intake.createHandler({
        catalog: stores.catalog,
        deployer,
        waits: stores.deploymentWaits,
        watches: stores.bakeWatches,
        alarms,
        callbacks,
        registry: stores.registry,
        dedupe: stores.dedupe,
        workflows: stores.workflows,
        events,
        clock,
      }),
    ),
    LockFunctionArn: h(lock.createHandler({ locks: stores.locks, workflows: stores.workflows, clock })),
    VerifyFunctionArn: h(
      verify.createHandler({
        catalog: stores.catalog,
        policies: stores.policies,
        prober,
        workflows: stores.workflows,
        clock,
      }),
    ),
    DecideFunctionArn: h(
      decide.createHandler({
        catalog: stores.catalog,
        policies: stores.policies,
        registry: stores.registry,
        alarms,
        events,
        workflows: stores.workflows,
        clock,
      }),
    ),
    RequestApprovalFunctionArn: h(
      requestApproval.createHandler({
        approvals: stores.approvals,
        locks: stores.locks,
        events,
        workflows: stores.workflows,
        ids,
        clock,
      }),
    ),
    DeployFunctionArn: h(
      deploy.createHandler({
        catalog: stores.catalog,
        registry: stores.registry,
        deployer,
        locks: stores.locks,
        workflows: stores.workflows,
        clock,
        pollSeconds: LOCAL_POLL_SECONDS,
      }),
    ),
    CheckDeploymentFunctionArn: h(check.createHandler({ ...outcomePorts, workflows: stores.workflows })),
    AwaitDeploymentFunctionArn: h(awaitDeployment.createHandler(finishDeployment)),
    StartBakeFunctionArn: h(startBake.createHandler({ ...finishBake, catalog: stores.catalog })),
    FinalBakeCheckFunctionArn: h(bake.createHandler({ ...finishBake, catalog: stores.catalog })),
    RecordFunctionArn: h(
      record.createHandler({
        registry: stores.registry,
        locks: stores.locks,
        dedupe: stores.dedupe,
        workflows: stores.workflows,
        events,
        clock,
      }),
    ),
    // Not state-machine tasks: rule targets and the schedule.
    DeploymentEventsFunctionArn: h(deploymentEvents.createHandler(finishDeployment)),
    AlarmEventsFunctionArn: h(alarmEvents.createHandler(finishBake)),
    ReconcileFunctionArn: h(
      reconcile.createHandler({
        ...finishDeployment,
        watches: stores.bakeWatches,
        approvals: stores.approvals,
        pollSeconds: LOCAL_POLL_SECONDS,
        reconcileSeconds: LOCAL_RECONCILE_SECONDS,
      }),
    ),
  };
}
