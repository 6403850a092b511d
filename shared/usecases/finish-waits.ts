import type { BakeResult } from '../domain/steps';
import type {
  AlarmReader,
  BakeWatchStore,
  DeploymentInfo,
  DeploymentWait,
  DeploymentWaitStore,
  TaskCallbacks,
  WorkflowStore,
} from '../ports';
import {
  type DeploymentOutcomePorts,
  describeStatus,
  endedStatuses,
  readDeploymentOutcome,
} from './deployment-outcome';

export interface FinishDeploymentPorts extends DeploymentOutcomePorts {
  waits: DeploymentWaitStore;
  callbacks: TaskCallbacks;
  workflows: WorkflowStore;
}

/**
 * Resumes the execution waiting for a deployment, if it has ended. Called by the CodeDeploy
 * state-change event, by the reconciler and right after the wait is registered (the deployment
 * may have ended first); the last two pass the wait they hold. Whoever claims the wait first
 * decides the answer; the others do nothing. The answer goes out before the wait is closed: a
 * failure in between leaves it ANSWERING, and the reconciler sends the stored answer again.
 *
 * An event for a deployment that Succeeded claims the wait directly: the claim is conditional on
 * a PENDING wait and returns it, so no read comes first (decision 0018), and a deployment Upshift
 * did not start finds no wait to claim. Failed and Stopped read the wait first, to name the alarm.
 */
export async function finishDeploymentWait(
  input: { deploymentId: string; via: 'event' | 'reconciler' | 'registration'; wait?: DeploymentWait },
  ports: FinishDeploymentPorts,
): Promise<{ resumed: boolean; status?: string }> {
  let wait = input.wait;
  let info: DeploymentInfo | undefined;
  if (!wait) {
    info = await ports.deployer.getDeployment(input.deploymentId);
    if (!endedStatuses.has(info.status)) return { resumed: false, status: info.status };
    if (info.status !== 'Succeeded') {
      wait = await ports.waits.get(input.deploymentId);
      if (!wait) return { resumed: false };
    }
  }
  if (wait && wait.status !== 'PENDING') return { resumed: false };
  const outcome = await readDeploymentOutcome(
    {
      deploymentId: input.deploymentId,
      // Read only for Failed and Stopped, which read the wait first.
      component: wait?.component ?? '',
      environment: wait?.environment ?? '',
      ...(info ? { info } : {}),
    },
    ports,
  );
  if (!endedStatuses.has(outcome.status)) return { resumed: false, status: outcome.status };
  const at = ports.clock.now().toISOString();
  const closed = await ports.waits.claim(input.deploymentId, at, outcome);
  if (!closed) return { resumed: false, status: outcome.status };
  wait = closed.wait ?? wait ?? (await ports.waits.get(input.deploymentId));
  // Decided, but nothing says whose it is: the reconciler answers it from the stored answer.
  if (!wait) return { resumed: false, status: outcome.status };
  await ports.workflows.append(wait.workflowId, {
    stage: wait.mode === 'upgrade' ? 'Deploy' : 'Revert',
    at,
    status: outcome.status,
    detail: `${wait.deploymentId} ${outcome.status.toLowerCase()} (via ${input.via})${describeStatus(outcome) ? `; ${describeStatus(outcome)}` : ''}`,
  });
  await ports.callbacks.sendSuccess(closed.taskToken, outcome);
  await ports.waits.close(wait.deploymentId, at);
  return { resumed: true, status: outcome.status };
}

/**
 * Sends a decided answer again and closes the item: for a wait or a watch left ANSWERING by a
 * failure between deciding and answering. Step Functions refuses a second answer to a task
 * (TaskTimedOut), which the callbacks treat as done, so sending twice is harmless.
 */
export async function answerAgain(
  store: Pick<DeploymentWaitStore, 'unanswered' | 'close'>,
  id: string,
  ports: { callbacks: TaskCallbacks; clock: { now(): Date } },
): Promise<boolean> {
  const stored = await store.unanswered(id);
  if (!stored) return false;
  await ports.callbacks.sendSuccess(stored.taskToken, stored.answer);
  await store.close(id, ports.clock.now().toISOString());
  return true;
}

/** The pseudo-alarm that ends a bake when on-call asks for a rollback. */
export const MANUAL_ROLLBACK_ALARM = 'manual-rollback';

export interface FinishBakePorts {
  watches: BakeWatchStore;
  alarms: AlarmReader;
  callbacks: TaskCallbacks;
  workflows: WorkflowStore;
  clock: { now(): Date };
  pollSeconds: number;
}

/**
 * Ends a bake: on an alarm entering ALARM (the event), or when the bake time is up (the
 * reconciler, after a final DescribeAlarms). Claiming is once-only, so the two never both decide;
 * the watch is closed only after the execution has its answer.
 */
export async function finishBake(
  input: { workflowId: string; alarm?: { name: string; reason: string; at: string } },
  ports: FinishBakePorts,
  watch: { until: string; alarmNames: string[] },
): Promise<BakeResult | undefined> {
  let alarm = input.alarm;
  if (!alarm) {
    const firing = (await ports.alarms.describe(watch.alarmNames)).find((s) => s.state === 'ALARM');
    if (firing) alarm = { name: firing.name, reason: firing.reason, at: firing.updatedAt };
  }
  const at = ports.clock.now().toISOString();
  const result: BakeResult = alarm
    ? { status: 'ALARM', until: watch.until, pollSeconds: ports.pollSeconds, alarm }
    : { status: 'PASSED', until: watch.until, pollSeconds: ports.pollSeconds };
  // Decide once, answer, then close: a lost answer is sent again by the reconciler.
  const closed = await ports.watches.claim(input.workflowId, at, result);
  if (!closed) return undefined;
  await ports.workflows.append(input.workflowId, {
    stage: 'Bake',
    at,
    status: result.status,
    detail: alarm ? `alarm ${alarm.name} in ALARM: ${alarm.reason}` : `no alarm until ${watch.until}`,
  });
  await ports.callbacks.sendSuccess(closed.taskToken, result);
  await ports.watches.close(input.workflowId, at);
  return result;
}

export { endedStatuses };
