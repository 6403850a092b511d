import { approvalLink, approvalReminderDetailType, approvalSummary, reminderAt } from '../domain/approvals';
import { source, version } from '../domain/events/upshift-events';
import type { ApprovalStore, Clock, EventPublisher, TaskCallbacks, WorkflowStore } from '../ports';
import { approvalAnswer } from './decide-approval';

export interface ExpireApprovalsPorts {
  approvals: ApprovalStore;
  callbacks: TaskCallbacks;
  workflows: WorkflowStore;
  clock: Clock;
}

/**
 * Ends the approvals whose policy timeout has passed: each is marked EXPIRED (once) and its
 * execution fails the wait with `ApprovalExpired`, which the state machine records as EXPIRED.
 * First, answers again the approvals decided whose answer may have been lost.
 * Runs on a schedule on AWS and on the virtual clock locally.
 */
export async function expireApprovals(ports: ExpireApprovalsPorts): Promise<{
  expired: string[];
  answered: string[];
  waiting: { count: number; oldestRequestedAt?: string };
}> {
  const now = ports.clock.now();
  const answered = await answerDecidedApprovals(ports);
  const expired: string[] = [];
  // The approvals still waiting after this pass (of the page read): the ApprovalsWaiting metric.
  const waiting: { count: number; oldestRequestedAt?: string } = { count: 0 };
  for (const approval of await ports.approvals.listPending(100)) {
    if (Date.parse(approval.expiresAt) > now.getTime()) {
      waiting.count++;
      if (!waiting.oldestRequestedAt || approval.requestedAt < waiting.oldestRequestedAt) {
        waiting.oldestRequestedAt = approval.requestedAt;
      }
      continue;
    }
    const decided = await ports.approvals.decide(approval.approvalId, {
      status: 'EXPIRED',
      by: 'upshift',
      at: now.toISOString(),
      comment: `no answer by ${approval.expiresAt}`,
    });
    if (!decided) continue;
    await ports.workflows.append(
      approval.workflowId,
      {
        stage: 'Approval',
        at: now.toISOString(),
        status: 'EXPIRED',
        detail: `approval ${approval.approvalId} expired at ${approval.expiresAt}`,
      },
      {
        approval: {
          approvalId: approval.approvalId,
          status: 'EXPIRED',
          approvers: [],
          at: now.toISOString(),
        },
      },
    );
    await ports.callbacks.sendFailure(
      decided.taskToken,
      'ApprovalExpired',
      `approval ${approval.approvalId} expired at ${approval.expiresAt}`,
    );
    await ports.approvals.markAnswered(approval.approvalId, now.toISOString());
    expired.push(approval.approvalId);
  }
  return { expired, answered, waiting };
}

/**
 * Approvals decided but not marked answered: the answer may have been lost between the two (a
 * crash, a network error). Send it again; Step Functions refuses a second answer to the same task,
 * which the callbacks treat as done.
 */
async function answerDecidedApprovals(ports: ExpireApprovalsPorts): Promise<string[]> {
  const answered: string[] = [];
  for (const { record, taskToken } of await ports.approvals.listUnanswered(100)) {
    if (record.status === 'EXPIRED') {
      await ports.callbacks.sendFailure(
        taskToken,
        'ApprovalExpired',
        `approval ${record.approvalId} expired at ${record.expiresAt}`,
      );
    } else if (record.status === 'APPROVED' || record.status === 'REJECTED') {
      await ports.callbacks.sendSuccess(
        taskToken,
        approvalAnswer({
          approvalId: record.approvalId,
          status: record.status,
          approvers: record.approvers.map((a) => a.by),
          by: record.decidedBy ?? 'unknown',
          at: record.decidedAt ?? ports.clock.now().toISOString(),
          comment: record.comment,
        }),
      );
    }
    await ports.approvals.markAnswered(record.approvalId, ports.clock.now().toISOString());
    answered.push(record.approvalId);
  }
  return answered;
}

export interface RemindApprovalsPorts {
  approvals: ApprovalStore;
  workflows: WorkflowStore;
  events: EventPublisher;
  clock: Clock;
  /** The console's base URL, for the link the reminder carries. */
  consoleUrl?: string | undefined;
}

/**
 * One reminder per pending approval, once its reminder time has come (an hour before expiry, or a
 * quarter of a shorter wait): `Approval Reminder` on the bus, with the same one-line summary and
 * link as the request, which the approvals topic forwards. The workflow's history records it, so
 * a later run does not remind again. No spam: never a second reminder, none after expiry.
 * 1. list pending; 2. skip those not due, expired or already reminded; 3. record; 4. publish.
 */
export async function remindApprovals(ports: RemindApprovalsPorts): Promise<{ reminded: string[] }> {
  const now = ports.clock.now();
  const reminded: string[] = [];
  for (const approval of await ports.approvals.listPending(100)) {
    if (approval.status !== 'PENDING') continue;
    if (Date.parse(approval.expiresAt) <= now.getTime()) continue;
    if (Date.parse(reminderAt(approval.requestedAt, approval.expiresAt)) > now.getTime()) continue;
    const record = await ports.workflows.get(approval.workflowId);
    const marker = `reminder for approval ${approval.approvalId}`;
    if (record?.history.some((h) => h.status === 'REMINDED' && h.detail.startsWith(marker))) continue;
    await ports.workflows.append(approval.workflowId, {
      stage: 'Approval',
      at: now.toISOString(),
      status: 'REMINDED',
      detail: `${marker} sent; expires ${approval.expiresAt}`,
    });
    const link = ports.consoleUrl ? approvalLink(ports.consoleUrl, approval.approvalId) : undefined;
    const risk = (approval.evidence as { risk?: string }).risk;
    await ports.events.publish([
      {
        source,
        detailType: approvalReminderDetailType,
        time: now.toISOString(),
        detail: {
          schemaVersion: version,
          workflowId: approval.workflowId,
          approvalId: approval.approvalId,
          component: approval.component,
          environment: approval.environment,
          version: approval.version,
          expiresAt: approval.expiresAt,
          summary: approvalSummary({ ...approval, risk }, link, 'reminder'),
          ...(link ? { consoleUrl: link } : {}),
        },
      },
    ]);
    reminded.push(approval.approvalId);
  }
  return { reminded };
}
