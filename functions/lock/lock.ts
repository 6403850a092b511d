import { LockHeld } from '../../shared/domain/errors';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { Clock, Lease, LockStore, WorkflowStore } from '../../shared/ports';
import { assertNoNewerInFlight, WAITER_TTL_SECONDS } from '../../shared/usecases/superseded';

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
 *    throw LockHeld for the state machine to wait and retry;
 * 2. either way, a newer upgrade holding the lock or queued for it supersedes this one (Superseded);
 * 3. or release, when the workflow defers and waits for a window.
 * Taking a free lock with nobody queued is one write: the queue is read only when the lock item
 * says upgrades may be waiting, and the `Lock ACQUIRED` line is written by Decide with its own
 * (decision 0018). A release is followed by a wait, so its line is written at once.
 */
export async function lock(
  input: { action: 'acquire' | 'release'; workflowId: string; request: UpgradeRequest },
  ports: LockPorts,
): Promise<Lease | { released: boolean }> {
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
  return acquireOrQueue(key, input, now, ports);
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
 * ends here, superseded, rather than waiting to deploy over the newer one (decision 0011).
 */
async function acquireOrQueue(
  key: string,
  input: { workflowId: string; request: UpgradeRequest },
  now: Date,
  ports: LockPorts,
): Promise<Lease> {
  const { request, workflowId } = input;
  let lease: Lease;
  try {
    lease = await ports.locks.acquire(key, workflowId, now, DEFAULT_LEASE_SECONDS);
  } catch (error) {
    if (!(error instanceof LockHeld) || request.mode === 'rollback') throw error;
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
    try {
      assertNoNewerInFlight(request, workflowId, holder, waiters);
    } catch (superseded) {
      await ports.locks.stopWaiting(key, workflowId);
      throw superseded;
    }
    throw error;
  }
  // Nobody has queued since the mark ran out (or ever): no queue to leave or to look at.
  if (!lease.queuedUntil || Date.parse(lease.queuedUntil) <= now.getTime()) return lease;
  await ports.locks.stopWaiting(key, workflowId);
  // Holding the lock, a newer upgrade still waiting for it supersedes this one: Record releases.
  assertNoNewerInFlight(request, workflowId, undefined, await ports.locks.waiting(key, now));
  return lease;
}
