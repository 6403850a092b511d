import { NotFound, UpshiftError } from '../domain/errors';
import type { ApprovalStore, Clock, TaskCallbacks, WorkflowStore } from '../ports';

export interface DecideApprovalPorts {
  approvals: ApprovalStore;
  callbacks: TaskCallbacks;
  workflows: WorkflowStore;
  clock: Clock;
}

export class ApprovalAlreadyDecided extends UpshiftError {
  constructor(
    readonly approvalId: string,
    readonly status: string,
  ) {
    super(`approval ${approvalId} is already ${status}`);
    this.name = 'ApprovalAlreadyDecided';
  }
}

export class ApproverNotAllowed extends UpshiftError {
  constructor(message: string) {
    super(message);
    this.name = 'ApproverNotAllowed';
  }
}

export interface ApprovalAnswer {
  approvalId: string;
  approve: boolean;
  by: string;
  /** The groups the approver belongs to (from the identity provider on AWS, a flag locally). */
  groups?: string[];
  comment?: string;
}

/**
 * Approve or reject an approval by its id (never by task token).
 * 1. check the approver: not the publisher (unless the policy allows it), in an allowed group;
 * 2. a rejection ends the approval at once; an approval counts one vote per person, and the
 *    quorum's last vote ends it;
 * 3. record who decided, when and why; 4. answer the waiting execution with the stored token,
 *    then mark it answered (until then the reconciler sends the answer again).
 */
export async function decideApproval(
  input: ApprovalAnswer,
  ports: DecideApprovalPorts,
): Promise<{
  approvalId: string;
  status: 'APPROVED' | 'REJECTED' | 'PENDING';
  approvers: string[];
  required: number;
}> {
  const record = await ports.approvals.get(input.approvalId);
  if (!record) throw new NotFound(`approval ${input.approvalId} does not exist`);
  if (record.status !== 'PENDING') throw new ApprovalAlreadyDecided(input.approvalId, record.status);
  if (!record.allowPublisher && record.publishedBy && record.publishedBy === input.by) {
    throw new ApproverNotAllowed(
      `${input.by} published ${record.component} ${record.version} and may not approve it`,
    );
  }
  if (record.groups.length && !(input.groups ?? []).some((g) => record.groups.includes(g))) {
    throw new ApproverNotAllowed(`${input.by} is not in an approver group (${record.groups.join(', ')})`);
  }
  const at = ports.clock.now().toISOString();

  if (input.approve) {
    const vote = await ports.approvals.addApprover(input.approvalId, {
      by: input.by,
      at,
      ...(input.comment ? { comment: input.comment } : {}),
    });
    const approvers = vote.approvers.map((a) => a.by);
    if (!vote.added) {
      const now = await ports.approvals.get(input.approvalId);
      if (now?.status !== 'PENDING')
        throw new ApprovalAlreadyDecided(input.approvalId, now?.status ?? 'decided');
      return { approvalId: input.approvalId, status: 'PENDING', approvers, required: record.required };
    }
    await ports.workflows.append(record.workflowId, {
      stage: 'Approval',
      at,
      status: 'VOTE',
      detail: `approved by ${input.by} (${approvers.length} of ${record.required})${input.comment ? `: ${input.comment}` : ''}`,
    });
    if (approvers.length < record.required) {
      return { approvalId: input.approvalId, status: 'PENDING', approvers, required: record.required };
    }
  }

  const status = input.approve ? 'APPROVED' : 'REJECTED';
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
  const latest = await ports.approvals.get(input.approvalId);
  const approvers = (latest?.approvers ?? []).map((a) => a.by);
  await ports.workflows.append(record.workflowId, {
    stage: 'Approval',
    at,
    status,
    detail: `${status.toLowerCase()} by ${input.approve ? approvers.join(', ') : input.by}${input.comment ? `: ${input.comment}` : ''}`,
  });
  await ports.callbacks.sendSuccess(
    decided.taskToken,
    approvalAnswer({
      approvalId: input.approvalId,
      status,
      approvers,
      by: input.by,
      at,
      comment: input.comment,
    }),
  );
  await ports.approvals.markAnswered(input.approvalId, at);
  return { approvalId: input.approvalId, status, approvers, required: record.required };
}

/**
 * What the waiting execution is told about a decided approval. The same for the first answer and
 * for the reconciler's answer again, so both say the same thing.
 */
export function approvalAnswer(input: {
  approvalId: string;
  status: 'APPROVED' | 'REJECTED';
  approvers: string[];
  by: string;
  at: string;
  comment?: string | undefined;
}) {
  const approved = input.status === 'APPROVED';
  return {
    approved,
    approvalId: input.approvalId,
    by: approved ? input.approvers.join(', ') : input.by,
    at: input.at,
    comment: input.comment ?? '',
  };
}
