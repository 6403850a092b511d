import { NotFound } from '../domain/errors';
import type { ApprovalStore, Clock, TaskCallbacks, WorkflowStore } from '../ports';

export interface DecideApprovalPorts {
  approvals: ApprovalStore;
  callbacks: TaskCallbacks;
  workflows: WorkflowStore;
  clock: Clock;
}

export class ApprovalAlreadyDecided extends Error {
  constructor(
    readonly approvalId: string,
    readonly status: string,
  ) {
    super(`approval ${approvalId} is already ${status}`);
    this.name = 'ApprovalAlreadyDecided';
  }
}

/**
 * Approve or reject an approval by its id (never by task token).
 * 1. mark the approval decided, once (a second answer fails with ApprovalAlreadyDecided);
 * 2. answer the waiting execution with the stored token;
 * 3. record who decided, when and why.
 */
export async function decideApproval(
  input: { approvalId: string; approve: boolean; by: string; comment?: string },
  ports: DecideApprovalPorts,
): Promise<{ approvalId: string; status: 'APPROVED' | 'REJECTED' }> {
  const existing = await ports.approvals.get(input.approvalId);
  if (!existing) throw new NotFound(`approval ${input.approvalId} does not exist`);
  const status = input.approve ? 'APPROVED' : 'REJECTED';
  const at = ports.clock.now().toISOString();
  const decided = await ports.approvals.decide(input.approvalId, {
    status,
    by: input.by,
    at,
    ...(input.comment ? { comment: input.comment } : {}),
  });
  if (!decided) {
    const now = await ports.approvals.get(input.approvalId);
    throw new ApprovalAlreadyDecided(input.approvalId, now?.status ?? 'decided');
  }
  await ports.workflows.append(existing.workflowId, {
    stage: 'Approval',
    at,
    status,
    detail: `${status.toLowerCase()} by ${input.by}${input.comment ? `: ${input.comment}` : ''}`,
  });
  await ports.callbacks.sendSuccess(decided.taskToken, {
    approved: input.approve,
    approvalId: input.approvalId,
    by: input.by,
    at,
    comment: input.comment ?? '',
  });
  return { approvalId: input.approvalId, status };
}
