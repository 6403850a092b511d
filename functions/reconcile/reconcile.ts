import type { ApprovalStore, BakeWatchStore, DeploymentWait, DuePage } from '../../shared/ports';
import { expireApprovals } from '../../shared/usecases/expire-approvals';
import {
  answerAgain,
  type FinishBakePorts,
  type FinishDeploymentPorts,
  finishBake,
  finishDeploymentWait,
} from '../../shared/usecases/finish-waits';
import { finishSoak, type SoakPorts } from '../../shared/usecases/waves';

export interface ReconcilePorts extends FinishDeploymentPorts {
  approvals: ApprovalStore;
  watches: BakeWatchStore;
  pollSeconds: number;
  /** How often one deployment is polled; events do the fast path. */
  reconcileSeconds: number;
  /** Promotion waves: soaks that have ended (docs/waves.md). */
  promotion?: SoakPorts;
}

/** How much of the invocation's time one tick leaves unused: the next tick goes on from there. */
export interface TickBudget {
  /** The Lambda's `context.getRemainingTimeInMillis()`. */
  remainingMs(): number;
}

export interface ReconcileResult {
  deployments: number;
  bakes: number;
  approvals: number;
  /** Soaks of promotion waves ended this tick. */
  soaks: number;
  complete: boolean;
  /** Approvals still pending after this tick (of the page read). */
  approvalsWaiting: number;
  /**
   * When the oldest wait this tick read was opened: a deployment wait's registration, or a pending
   * approval's request (absent when it read none). The OldestInFlightAge metric.
   */
  oldestInFlightAt?: string;
}

/** Stop taking new items when less than this is left of the invocation. */
export const RESERVE_MS = 10_000;

/** Items read per page of the index. */
export const PAGE_SIZE = 100;

/** Deployment statuses in which a deployment past its deadline is stopped. */
const stoppable = new Set(['InProgress', 'Created', 'Queued', 'Ready']);

/**
 * The reconciler, on a schedule: nothing waits for ever, even when an event is lost.
 * 1. each deployment wait due for a look (every `reconcileSeconds`): GetDeployment; past its
 *    deadline, StopDeployment with rollback; an ended deployment resumes its execution;
 * 2. each bake whose time is up: a final DescribeAlarms, then PASSED or ALARM;
 * 3. approvals past their timeout: EXPIRED;
 * 4. waits and bakes decided but perhaps never answered: answered again, then closed;
 * 5. promotion waves whose soak has ended: DescribeAlarms, then halt, hold or promote.
 * It reads only what is due (the index's sort key is the due time) and pages through all of it,
 * with no cap, while the invocation has time; what is left stays due for the next tick
 * (decision 0018).
 */
export async function reconcile(
  ports: ReconcilePorts,
  budget: TickBudget = { remainingMs: () => Number.POSITIVE_INFINITY },
): Promise<ReconcileResult> {
  const now = ports.clock.now();
  const due = now.toISOString();
  const hasTime = () => budget.remainingMs() > RESERVE_MS;
  const failures: unknown[] = [];

  let deployments = 0;
  let oldestInFlightAt: string | undefined;
  const older = (at: string | undefined) => {
    if (at && (!oldestInFlightAt || at < oldestInFlightAt)) oldestInFlightAt = at;
  };
  const waitsDone = await eachDue(
    (start) => ports.waits.listDue(due, PAGE_SIZE, start),
    hasTime,
    async (wait) => {
      older(wait.registeredAt);
      if (await reconcileWait(wait, now, ports)) deployments++;
    },
    failures,
  );

  let bakes = 0;
  const bakePorts: FinishBakePorts = { ...ports, watches: ports.watches };
  const bakesDone = await eachDue(
    (start) => ports.watches.listDue(due, PAGE_SIZE, start),
    hasTime,
    async (watch) => {
      if (watch.status === 'ANSWERING') {
        if (await answerAgain(ports.watches, watch.workflowId, ports)) bakes++;
        return;
      }
      if (await finishBake({ workflowId: watch.workflowId }, bakePorts, watch)) bakes++;
    },
    failures,
  );

  let soaks = 0;
  const promotion = ports.promotion;
  const soaksDone = promotion
    ? await eachDue(
        (start) => promotion.waves.listDueSoaks(due, PAGE_SIZE, start),
        hasTime,
        async (soak) => {
          if (await finishSoak(soak, promotion)) soaks++;
        },
        failures,
      )
    : true;

  const { expired, answered, waiting } = hasTime()
    ? await expireApprovals(ports)
    : { expired: [], answered: [], waiting: { count: 0 } };
  older(waiting.oldestRequestedAt);
  // The rest were done; the first failure still fails the invocation, so it is seen.
  if (failures.length) throw failures[0];
  return {
    deployments,
    bakes,
    approvals: expired.length + answered.length,
    soaks,
    complete: waitsDone && bakesDone && soaksDone && hasTime(),
    approvalsWaiting: waiting.count,
    ...(oldestInFlightAt ? { oldestInFlightAt } : {}),
  };
}

/**
 * Runs `each` over every item of every page `list` returns, while `hasTime`; true when it got
 * through all of them. One item that fails does not hold up the others behind it: its error goes
 * to `failures` (the item stays due, and the next tick tries again).
 */
async function eachDue<T>(
  list: (start?: Record<string, unknown>) => Promise<DuePage<T>>,
  hasTime: () => boolean,
  each: (item: T) => Promise<void>,
  failures: unknown[],
): Promise<boolean> {
  let start: Record<string, unknown> | undefined;
  let complete = true;
  do {
    if (!hasTime()) {
      complete = false;
      break;
    }
    const page = await list(start);
    for (const item of page.items) {
      if (!hasTime()) {
        complete = false;
        break;
      }
      await each(item).catch((error: unknown) => {
        failures.push(error);
      });
    }
    start = complete ? page.next : undefined;
  } while (start);
  return complete;
}

/**
 * One due deployment wait: answered again when it was decided, else looked at. A deployment that
 * ended resumes its execution; one still running is due again `reconcileSeconds` later.
 */
async function reconcileWait(wait: DeploymentWait, now: Date, ports: ReconcilePorts): Promise<boolean> {
  if (wait.status === 'ANSWERING') return answerAgain(ports.waits, wait.deploymentId, ports);
  if (now.getTime() > Date.parse(wait.deadline)) {
    const info = await ports.deployer.getDeployment(wait.deploymentId);
    if (stoppable.has(info.status)) await ports.deployer.stopDeployment(wait.deploymentId, true);
  }
  const done = await finishDeploymentWait(
    { deploymentId: wait.deploymentId, via: 'reconciler', wait },
    ports,
  );
  if (done.resumed) return true;
  const nextAt = new Date(now.getTime() + ports.reconcileSeconds * 1000).toISOString();
  await ports.waits.markPolled(wait.deploymentId, now.toISOString(), nextAt);
  return false;
}
