import type { ApprovalStore, Clock, TaskCallbacks, WorkflowStore } from '../ports';

export interface ExpireApprovalsPorts {
  approvals: ApprovalStore;
  callbacks: TaskCallbacks;
  workflows: WorkflowStore;
  clock: Clock;
}

/**
 * Ends the approvals whose policy timeout has passed: each is marked EXPIRED (once) and its
 * execution fails the wait with `ApprovalExpired`, which the state machine records as EXPIRED.
 * Runs on a schedule on AWS and on the virtual clock locally.
 */
export async function expireApprovals(ports: ExpireApprovalsPorts): Promise<{ expired: string[] }> {
  const now = ports.clock.now();
  const expired: string[] = [];
  for (const approval of await ports.approvals.listPending(100)) {
    if (Date.parse(approval.expiresAt) > now.getTime()) continue;
    const decided = await ports.approvals.decide(approval.approvalId, {
      status: 'EXPIRED',
      by: 'upshift',
      at: now.toISOString(),
      comment: `no answer by ${approval.expiresAt}`,
    });
    if (!decided) continue;
    await ports.workflows.append(approval.workflowId, {
      stage: 'Approval',
      at: now.toISOString(),
      status: 'EXPIRED',
      detail: `approval ${approval.approvalId} expired at ${approval.expiresAt}`,
    });
    await ports.callbacks.sendFailure(
      decided.taskToken,
      'ApprovalExpired',
      `approval ${approval.approvalId} expired at ${approval.expiresAt}`,
    );
    expired.push(approval.approvalId);
  }
  return { expired };
}
