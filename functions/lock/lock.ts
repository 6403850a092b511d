import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { Clock, Lease, LockStore, WorkflowStore } from '../../shared/ports';

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
 * 1. acquire (or renew our own lease) — throws LockHeld for the state machine to wait and retry;
 * 2. or release, when the workflow defers and waits for a window.
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
  const lease = await ports.locks.acquire(key, input.workflowId, now, DEFAULT_LEASE_SECONDS);
  await ports.workflows.append(input.workflowId, {
    stage: 'Lock',
    at: now.toISOString(),
    status: 'ACQUIRED',
    detail: `lease on ${key} until ${lease.expiresAt}`,
  });
  return lease;
}
