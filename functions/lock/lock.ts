import { LockHeld } from '../../shared/domain/errors';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { Clock, Lease, LockStore, WorkflowStore } from '../../shared/ports';
import { newerInFlight, Superseded, WAITER_TTL_SECONDS } from '../../shared/usecases/superseded';
import type { LockResult } from './schema';

export interface LockPorts {
  locks: LockStore;
  workflows: WorkflowStore;
  clock: Clock;
}

/** Lease length when taken; the steps that start long waits extend it (deploy, approval). */
export const DEFAULT_LEASE_SECONDS = 30 * 60;

export function lockKey(component: string, environment: string): string {
  return `${component}#${environment}`;
}

/**
 * Lock: one in-flight upgrade per component and environment, because CodeDeploy runs one
 * deployment per group. A lease, so a crashed workflow never holds it for ever.
 * 1. acquire (or renew our own lease); when another holds it, take a place in the queue and
 *    return `held` for the state machine to wait and retry;
 * 2. either way, a newer upgrade holding the lock or queued for it supersedes this one
 *    (`superseded`, with the reason);
 * 3. or release, when the workflow defers and waits for a window.
 * Both expected outcomes are returned, not thrown: a thrown error is a Lambda function error, and
 * waiting in line is not a failure. A caller that asks for them as errors (`expectedAs: 'error'`,
 * a definition from before) gets `LockHeld` and `Superseded`, as it did.
 * Taking a free lock with nobody queued is one write: the queue is read only when the lock item
 * says upgrades may be waiting, and the `Lock ACQUIRED` line is written by Decide with its own
 * (decision 0018). A release is followed by a wait, so its line is written at once.
 */
export async function lock(
  input: {
    action: 'acquire' | 'release';
    workflowId: string;
    request: UpgradeRequest;
    expectedAs?: 'result' | 'error';
  },
  ports: LockPorts,
): Promise<LockResult> {
  const key = lockKey(input.request.component, input.request.environment);
  const now = ports.clock.now();
  if (input.action === 'release') {
    const released = await ports.locks.release(key, input.workflowId);
    await ports.workflows.append(input.workflowId, {
      stage: 'Lock',
      at: now.toISOString(),
      status: 'RELEASED',
      detail: 'released while deferred',
    });
    return { released };
  }
  const outcome = await acquireOrQueue(key, input, now, ports);
  return input.expectedAs === 'result' ? outcome : thrownAsBefore(outcome);
}

/** The expected outcomes as the errors the definitions before `expectedAs` catch by name. */
function thrownAsBefore(outcome: LockResult): LockResult {
  if ('held' in outcome) throw new LockHeld(outcome.holder, outcome.expiresAt);
  if ('superseded' in outcome) throw new Superseded(outcome.superseded.message);
  return outcome;
}

/** The history line of taking the lock (Decide writes it, from the lock item it reads). */
export function lockAcquiredLine(lease: Lease) {
  return {
    stage: 'Lock',
    at: lease.acquiredAt ?? lease.expiresAt,
    status: 'ACQUIRED',
    detail: `lease on ${lease.key} until ${lease.expiresAt}`,
  };
}

/**
 * Takes the lease, or queues for it. An upgrade older than one holding the lock or queued for it
 * ends here, superseded, rather than waiting to deploy over the newer one (decision 0011). A
 * manual rollback takes no place in the queue and is never superseded: it waits for the lock.
 */
async function acquireOrQueue(
  key: string,
  input: { workflowId: string; request: UpgradeRequest },
  now: Date,
  ports: LockPorts,
): Promise<LockResult> {
  const { request, workflowId } = input;
  let lease: Lease;
  try {
    lease = await ports.locks.acquire(key, workflowId, now, DEFAULT_LEASE_SECONDS);
  } catch (error) {
    if (!(error instanceof LockHeld)) throw error;
    const held = { held: true as const, holder: error.holder, expiresAt: error.expiresAt };
    if (request.mode === 'rollback') return held;
    const waiters = await ports.locks.wait(
      key,
      {
        owner: workflowId,
        version: request.version,
        since: now.toISOString(),
        expiresAt: new Date(now.getTime() + WAITER_TTL_SECONDS * 1000).toISOString(),
      },
      now,
    );
    const holder = await ports.workflows.get(error.holder);
    const newer = newerInFlight(request, workflowId, holder, waiters);
    if (newer === undefined) return held;
    await ports.locks.stopWaiting(key, workflowId);
    return { superseded: { message: newer } };
  }
  // Nobody has queued since the mark ran out (or ever): no queue to leave or to look at.
  if (!lease.queuedUntil || Date.parse(lease.queuedUntil) <= now.getTime()) return lease;
  await ports.locks.stopWaiting(key, workflowId);
  // Holding the lock, a newer upgrade still waiting for it supersedes this one: Record releases.
  const newer = newerInFlight(request, workflowId, undefined, await ports.locks.waiting(key, now));
  return newer === undefined ? lease : { superseded: { message: newer } };
}
