import { alreadyAnsweredBy, type Refusal, refusalFor } from '../domain/approvals';
import { NotFound, UpshiftError } from '../domain/errors';
import type { ApprovalRecord, ApprovalStore, Clock, TaskCallbacks, WorkflowStore } from '../ports';

export interface DecideApprovalPorts {
  approvals: ApprovalStore;
  callbacks: TaskCallbacks;
  workflows: WorkflowStore;
  clock: Clock;
}

/** An answer refused before anything changed; `refusal` carries the HTTP status and a stable code. */
export class ApprovalRefused extends UpshiftError {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
    this.name = 'ApprovalRefused';
  }
}

/** 409: the approval was decided (or expired) before this answer. */
export class ApprovalAlreadyDecided extends ApprovalRefused {
  constructor(
    readonly approvalId: string,
    readonly status: string,
    refusal?: Refusal,
  ) {
    super(
      refusal ?? {
        status: 409,
        code: status === 'EXPIRED' ? 'EXPIRED' : 'ALREADY_DECIDED',
        message: `approval ${approvalId} is already ${status}; nothing was changed`,
      },
    );
    this.name = 'ApprovalAlreadyDecided';
  }
}

/** 409: the approval's time ran out before this answer (the reconciler may not have closed it yet). */
export class ApprovalExpiredError extends ApprovalRefused {
  constructor(refusal: Refusal) {
    super(refusal);
    this.name = 'ApprovalExpiredError';
  }
}

/** 403: this person may not answer (the publisher under separation of duties, outside the groups). */
export class ApproverNotAllowed extends ApprovalRefused {
  constructor(refusal: Refusal | string) {
    super(
      typeof refusal === 'string'
        ? { status: 403, code: 'NOT_IN_APPROVER_GROUP', message: refusal }
        : refusal,
    );
    this.name = 'ApproverNotAllowed';
  }
}

export interface ApprovalAnswer {
  approvalId: string;
  approve: boolean;
  /** Who answers, from authentication (a verified JWT or the SigV4 principal), never from a body. */
  by: string;
  /** The groups that identity belongs to (the user pool's groups; the principal's role). */
  groups?: string[];
  comment?: string;
}

export interface ApprovalOutcome {
  approvalId: string;
  status: 'APPROVED' | 'REJECTED' | 'PENDING' | 'EXPIRED';
  approvers: string[];
  required: number;
  /** True when this answer changed nothing (the same person answered before). */
  unchanged: boolean;
  /** What happened, for the person: a vote counted, the quorum reached, a repeat ignored. */
  message: string;
}

/**
 * Approve or reject an approval by its id (never by task token).
 * 1. a repeat by the same person changes nothing and says so;
 * 2. check: pending, not expired, not the publisher (unless the policy allows it), in a group;
 * 3. a rejection ends the approval at once; an approval counts one vote per person, and the
 *    quorum's last vote ends it;
 * 4. record who decided, when and why; 5. answer the waiting execution with the stored token,
 *    then mark it answered (until then the reconciler sends the answer again).
 */
export async function decideApproval(
  input: ApprovalAnswer,
  ports: DecideApprovalPorts,
): Promise<ApprovalOutcome> {
  const record = await ports.approvals.get(input.approvalId);
  if (!record) throw new NotFound(`approval ${input.approvalId} does not exist`);
  if (alreadyAnsweredBy(record, input.by)) return repeated(record, input.by);
  const now = ports.clock.now();
  const refusal = refusalFor(record, { name: input.by, groups: input.groups ?? [], via: 'jwt' }, now);
  if (refusal) throw refusalError(record, refusal);
  const at = now.toISOString();

  if (input.approve) {
    const vote = await ports.approvals.addApprover(input.approvalId, {
      by: input.by,
      at,
      ...(input.comment ? { comment: input.comment } : {}),
    });
    const approvers = vote.approvers.map((a) => a.by);
    if (!vote.added) {
      // Someone else's answer (or this person's, from another tab) got there first.
      const latest = await ports.approvals.get(input.approvalId);
      if (latest && alreadyAnsweredBy(latest, input.by)) return repeated(latest, input.by);
      throw new ApprovalAlreadyDecided(input.approvalId, latest?.status ?? 'decided');
    }
    await ports.workflows.append(record.workflowId, {
      stage: 'Approval',
      at,
      status: 'VOTE',
      detail: `approved by ${input.by} (${approvers.length} of ${record.required})${input.comment ? `: ${input.comment}` : ''}`,
    });
    if (approvers.length < record.required) {
      return {
        approvalId: input.approvalId,
        status: 'PENDING',
        approvers,
        required: record.required,
        unchanged: false,
        message: `${input.by}'s approval counted: ${approvers.length} of ${record.required} approvers`,
      };
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
    const latest = await ports.approvals.get(input.approvalId);
    throw new ApprovalAlreadyDecided(input.approvalId, latest?.status ?? 'decided');
  }
  const latest = await ports.approvals.get(input.approvalId);
  const approvers = (latest?.approvers ?? []).map((a) => a.by);
  await ports.workflows.append(
    record.workflowId,
    {
      stage: 'Approval',
      at,
      status,
      detail: `${status.toLowerCase()} by ${input.approve ? approvers.join(', ') : input.by}${input.comment ? `: ${input.comment}` : ''}`,
    },
    // Who answered, as data for the audit export (shared/domain/audit-export.ts).
    {
      approval: {
        approvalId: input.approvalId,
        status,
        approvers,
        by: input.by,
        at,
        ...(input.comment ? { comment: input.comment } : {}),
      },
    },
  );
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
  return {
    approvalId: input.approvalId,
    status,
    approvers,
    required: record.required,
    unchanged: false,
    message: `${record.component} ${record.version} to ${record.environment} ${status.toLowerCase()} by ${
      input.approve ? approvers.join(', ') : input.by
    }`,
  };
}

function repeated(record: ApprovalRecord, by: string): ApprovalOutcome {
  return {
    approvalId: record.approvalId,
    status: record.status,
    approvers: record.approvers.map((a) => a.by),
    required: record.required,
    unchanged: true,
    message: `${by} already answered approval ${record.approvalId} (now ${record.status}); nothing was changed`,
  };
}

function refusalError(record: ApprovalRecord, refusal: Refusal): ApprovalRefused {
  if (refusal.code === 'ALREADY_DECIDED' || (refusal.code === 'EXPIRED' && record.status !== 'PENDING'))
    return new ApprovalAlreadyDecided(record.approvalId, record.status, refusal);
  if (refusal.code === 'EXPIRED') return new ApprovalExpiredError(refusal);
  return new ApproverNotAllowed(refusal);
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
