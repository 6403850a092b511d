import { approvalLink, approvalSummary, reminderAt } from '../../shared/domain/approvals';
import type { Decision } from '../../shared/domain/decision';
import { detailTypes, source, version } from '../../shared/domain/events/upshift-events';
import type { VerificationResult } from '../../shared/domain/verification';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type {
  ApprovalStore,
  Clock,
  EventPublisher,
  IdGenerator,
  LockStore,
  WorkflowStore,
} from '../../shared/ports';
import { lockKey } from '../lock/lock';

export interface RequestApprovalPorts {
  approvals: ApprovalStore;
  locks: LockStore;
  events: EventPublisher;
  workflows: WorkflowStore;
  ids: IdGenerator;
  clock: Clock;
  /** The console's base URL: the notification links to the approval's page. */
  consoleUrl?: string | undefined;
}

/**
 * RequestApproval: called with a task token; the execution waits until someone answers.
 * 1. store the approval with its token (the token stays server-side; approvers use the id);
 * 2. extend the lease to cover the wait;
 * 3. announce `Approval Requested` with the evidence, a one-line summary and the console link
 *    (the approvals topic forwards the summary), never the token.
 */
export async function requestApproval(
  input: {
    taskToken: string;
    workflowId: string;
    request: UpgradeRequest;
    decision: Decision;
    verification: VerificationResult;
  },
  ports: RequestApprovalPorts,
): Promise<{ approvalId: string }> {
  const { request, decision } = input;
  const now = ports.clock.now();
  const approvalId = ports.ids.next('apr');
  const expiresAt = new Date(now.getTime() + decision.approvalTimeoutSeconds * 1000).toISOString();
  const evidence = {
    risk: decision.risk,
    reasons: decision.reasons,
    deferUntil: decision.deferUntil,
    verification: { verdict: input.verification.verdict, findings: input.verification.findings },
    labels: request.labels,
    bump: request.bump,
    // The diff of versions and where the change comes from, when the event said.
    versions: { from: request.currentVersion ?? null, to: request.version },
    ...(request.commit ? { commit: request.commit } : {}),
  };
  const link = ports.consoleUrl ? approvalLink(ports.consoleUrl, approvalId) : undefined;
  const summary = approvalSummary(
    {
      approvalId,
      component: request.component,
      version: request.version,
      environment: request.environment,
      expiresAt,
      risk: decision.risk,
    },
    link,
  );
  await ports.approvals.create(
    {
      approvalId,
      workflowId: input.workflowId,
      component: request.component,
      environment: request.environment,
      version: request.version,
      status: 'PENDING',
      required: decision.approvals.required,
      groups: decision.approvals.groups,
      allowPublisher: decision.approvals.allowPublisher,
      approvers: [],
      requestedAt: now.toISOString(),
      expiresAt,
      ...(request.publishedBy ? { publishedBy: request.publishedBy } : {}),
      evidence,
    },
    input.taskToken,
  );
  await ports.locks.acquire(
    lockKey(request.component, request.environment),
    input.workflowId,
    now,
    decision.approvalTimeoutSeconds + 15 * 60,
  );
  await ports.workflows.append(input.workflowId, {
    stage: 'Approval',
    at: now.toISOString(),
    status: 'REQUESTED',
    detail: `approval ${approvalId} requested; expires ${expiresAt}`,
  });
  await ports.events.publish([
    {
      source,
      detailType: detailTypes.approvalRequested,
      time: now.toISOString(),
      detail: {
        schemaVersion: version,
        workflowId: input.workflowId,
        approvalId,
        component: request.component,
        environment: request.environment,
        version: request.version,
        expiresAt,
        remindAt: reminderAt(now.toISOString(), expiresAt),
        summary,
        ...(link ? { consoleUrl: link } : {}),
        reasons: decision.reasons,
        evidence,
      },
    },
  ]);
  return { approvalId };
}
