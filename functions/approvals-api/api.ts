import { z } from 'zod';
import {
  type ApproverIdentity,
  filterApprovals,
  identityKeysIn,
  refusalFor,
} from '../../shared/domain/approvals';
import { NotFound } from '../../shared/domain/errors';
import { unlocate } from '../../shared/domain/target-location';
import type { WorkflowRecord } from '../../shared/domain/workflow';
import type {
  ApprovalRecord,
  ApprovalStore,
  Clock,
  Deployer,
  TaskCallbacks,
  WaveStore,
  WorkflowStore,
} from '../../shared/ports';
import { ApprovalRefused, decideApproval } from '../../shared/usecases/decide-approval';

/** One HTTP request as the API sees it, whoever carried it (API Gateway, `upshift up`). */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  /** The body as sent (JSON text), if any. */
  body?: string | undefined;
  /** From authentication only: a verified JWT's claims or the SigV4 principal. */
  identity?: ApproverIdentity | undefined;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ApprovalsApiPorts {
  approvals: ApprovalStore;
  workflows: WorkflowStore;
  callbacks: TaskCallbacks;
  clock: Clock;
  /** Reads the traffic % of a shift in flight, when given. */
  deployments?: Pick<Deployer, 'getDeployment'> | undefined;
  /** Promotion waves, read-only (docs/waves.md). */
  waves?: Pick<WaveStore, 'list' | 'get'> | undefined;
}

const answerBody = z.strictObject({
  comment: z
    .string({ error: 'expected a comment: why you approve or reject' })
    .trim()
    .min(1, 'expected a comment: why you approve or reject')
    .max(2000, 'expected at most 2000 characters'),
});

const fail = (status: number, code: string, message: string): ApiResponse => ({
  status,
  body: { error: { code, message } },
});

/**
 * The decision API, one router for API Gateway on AWS and for `upshift up` locally:
 *   GET  /api/whoami                     the identity authentication gave
 *   GET  /api/approvals[?component=&environment=]   pending approvals
 *   GET  /api/approvals/{id}             one approval with its evidence
 *   POST /api/approvals/{id}/approve     {"comment": "..."}
 *   POST /api/approvals/{id}/reject      {"comment": "..."}
 *   GET  /api/workflows[?limit=]         in-flight upgrades and history
 *   GET  /api/waves[?limit=]             promotion waves, newest first (read-only)
 *   GET  /api/waves/{id}                 one promotion wave
 * Every route needs an identity (401 without); an identity in the body is refused (400).
 * No response carries a task token: the store never returns one.
 */
export async function handleApi(request: ApiRequest, ports: ApprovalsApiPorts): Promise<ApiResponse> {
  const identity = request.identity;
  if (!identity) {
    return fail(401, 'NO_IDENTITY', 'sign in first: every approvals route needs an authenticated identity');
  }
  const path = request.path.replace(/\/+$/, '');
  const method = request.method.toUpperCase();
  try {
    if (method === 'GET' && path === '/api/whoami') return { status: 200, body: { identity } };
    if (method === 'GET' && path === '/api/approvals')
      return { status: 200, body: await listPending(request, ports) };
    if (method === 'GET' && path === '/api/workflows')
      return { status: 200, body: await listWorkflows(request, ports) };
    if (method === 'GET' && path === '/api/waves')
      return { status: 200, body: await listWaves(request, ports) };
    const wave = /^\/api\/waves\/([A-Za-z0-9_.:-]{1,160})$/.exec(path);
    if (method === 'GET' && wave) return { status: 200, body: await getWave(wave[1] as string, ports) };
    const one = /^\/api\/approvals\/([A-Za-z0-9_.:-]{1,128})$/.exec(path);
    if (method === 'GET' && one)
      return { status: 200, body: await getOne(one[1] as string, identity, ports) };
    const answer = /^\/api\/approvals\/([A-Za-z0-9_.:-]{1,128})\/(approve|reject)$/.exec(path);
    if (method === 'POST' && answer)
      return await answerOne(answer[1] as string, answer[2] === 'approve', request, ports);
    return fail(404, 'NO_ROUTE', `no route ${method} ${path}`);
  } catch (error) {
    if (error instanceof ApprovalRefused)
      return fail(error.refusal.status, error.refusal.code, error.message);
    if (error instanceof NotFound) return fail(404, 'NOT_FOUND', error.message);
    throw error;
  }
}

/** An approval as the API shows it: never the token (the store never returns one). */
export function approvalView(a: ApprovalRecord, now: Date) {
  return {
    id: a.approvalId,
    workflowId: a.workflowId,
    component: a.component,
    version: a.version,
    environment: a.environment,
    status: a.status,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    expired: a.status === 'PENDING' && Date.parse(a.expiresAt) <= now.getTime(),
    required: a.required,
    groups: a.groups,
    allowPublisher: a.allowPublisher,
    publishedBy: a.publishedBy ?? null,
    approvers: a.approvers,
    decidedBy: a.decidedBy ?? null,
    decidedAt: a.decidedAt ?? null,
    comment: a.comment || null,
    risk: (a.evidence as { risk?: string }).risk ?? null,
  };
}

async function listPending(request: ApiRequest, ports: ApprovalsApiPorts) {
  const now = ports.clock.now();
  const pending = (await ports.approvals.listPending(100)).filter((a) => a.status === 'PENDING');
  const filtered = filterApprovals(pending, {
    component: request.query.component,
    environment: request.query.environment,
  });
  return { approvals: filtered.map((a) => approvalView(a, now)) };
}

async function getOne(approvalId: string, identity: ApproverIdentity, ports: ApprovalsApiPorts) {
  const approval = await ports.approvals.get(approvalId);
  if (!approval) throw new NotFound(`approval ${approvalId} does not exist`);
  const now = ports.clock.now();
  const workflow = await ports.workflows.get(approval.workflowId);
  const refusal = refusalFor(approval, identity, now);
  return {
    approval: approvalView(approval, now),
    evidence: evidenceOf(approval, workflow),
    history: workflow?.history ?? [],
    // What the signed-in person may do here, so the console can say why before they click.
    you: { name: identity.name, mayAnswer: !refusal, ...(refusal ? { refusal } : {}) },
  };
}

/** The evidence on one screen: verification table, decision reasons and trace, risk, commit, versions. */
function evidenceOf(approval: ApprovalRecord, workflow: WorkflowRecord | undefined) {
  const stored = approval.evidence as Record<string, unknown>;
  const verification = (workflow?.evidence.verification ?? {}) as Record<string, unknown>;
  const decision = (workflow?.evidence.decision ?? {}) as Record<string, unknown>;
  const verificationStored = (stored.verification ?? {}) as Record<string, unknown>;
  return {
    risk: stored.risk ?? decision.risk ?? null,
    labels: stored.labels ?? [],
    bump: stored.bump ?? null,
    versions: stored.versions ?? { from: null, to: approval.version },
    commit: stored.commit ?? null,
    changelog: stored.changelog ?? null,
    verification: {
      verdict: verification.verdict ?? verificationStored.verdict ?? null,
      findings: verification.findings ?? verificationStored.findings ?? [],
      checks: verification.checks ?? [],
      omittedChecks: verification.omittedChecks ?? null,
      candidate: verification.candidate ?? null,
      current: verification.current ?? null,
    },
    decision: {
      decision: decision.decision ?? 'MANUAL_REVIEW',
      reasons: decision.reasons ?? stored.reasons ?? [],
      trace: decision.trace ?? [],
      deploymentConfig: decision.deploymentConfig ?? null,
      bakeMinutes: decision.bakeMinutes ?? null,
    },
  };
}

async function answerOne(
  approvalId: string,
  approve: boolean,
  request: ApiRequest,
  ports: ApprovalsApiPorts,
): Promise<ApiResponse> {
  const identity = request.identity as ApproverIdentity;
  let parsed: unknown;
  try {
    parsed = request.body ? JSON.parse(request.body) : {};
  } catch {
    return fail(400, 'INVALID_BODY', 'expected a JSON body such as {"comment": "why"}');
  }
  const forged = identityKeysIn(parsed);
  if (forged.length) {
    return fail(
      400,
      'IDENTITY_IN_BODY',
      `the body names an identity (${forged.join(', ')}); who answers comes from your sign-in (a token or your AWS credentials), never from the body; nothing was changed`,
    );
  }
  const body = answerBody.safeParse(parsed);
  if (!body.success) {
    return fail(
      400,
      'INVALID_BODY',
      body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  }
  const outcome = await decideApproval(
    { approvalId, approve, by: identity.name, groups: identity.groups, comment: body.data.comment },
    ports,
  );
  return { status: 200, body: outcome };
}

async function listWorkflows(request: ApiRequest, ports: ApprovalsApiPorts) {
  const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 50) || 50));
  const records = await ports.workflows.list(limit);
  const rows = [];
  for (const r of records) {
    const last = r.history.at(-1);
    const deployment = r.evidence.deployment as { deploymentId?: string } | undefined;
    const { trafficPercent, trafficUnavailable } =
      r.status === 'RUNNING' && deployment?.deploymentId
        ? await trafficOf(deployment.deploymentId, ports)
        : { trafficPercent: null, trafficUnavailable: null };
    rows.push({
      workflowId: r.workflowId,
      component: r.component ?? null,
      version: r.version ?? null,
      environment: r.environment ?? null,
      status: r.status,
      outcome: r.outcome ?? null,
      reasons: r.reasons,
      stage: last?.stage ?? null,
      stageStatus: last?.status ?? null,
      trafficPercent,
      trafficUnavailable,
      startedAt: r.startedAt,
      endedAt: r.endedAt ?? null,
      history: r.history,
    });
  }
  return { workflows: rows };
}

/** Said instead of a traffic % for a shift in another account (decision 0028). */
export const TRAFFIC_IN_ANOTHER_ACCOUNT = 'traffic not available for targets in another account';

/**
 * The traffic % of a shift in flight, or why it is not shown. A deployment in a target's account
 * (a located id) is not read: this API's role may not assume the target roles, which can deploy,
 * and the API serves the console (decision 0028). A failed read says what failed.
 */
async function trafficOf(
  deploymentId: string,
  ports: ApprovalsApiPorts,
): Promise<{ trafficPercent: number | null; trafficUnavailable: string | null }> {
  const { location } = unlocate(deploymentId);
  if (location) {
    return {
      trafficPercent: null,
      trafficUnavailable: `${TRAFFIC_IN_ANOTHER_ACCOUNT} (${location.account})`,
    };
  }
  if (!ports.deployments) return { trafficPercent: null, trafficUnavailable: 'traffic is not read here' };
  try {
    const info = await ports.deployments.getDeployment(deploymentId);
    if (info.trafficPercent !== undefined)
      return { trafficPercent: info.trafficPercent, trafficUnavailable: null };
    // CodeDeploy's GetDeployment has a status and instance counts, no traffic percentage.
    return { trafficPercent: null, trafficUnavailable: `no traffic % reported (deployment ${info.status})` };
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return {
      trafficPercent: null,
      trafficUnavailable: `traffic could not be read: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`,
    };
  }
}

async function listWaves(request: ApiRequest, ports: ApprovalsApiPorts) {
  const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 50) || 50));
  return { waves: ports.waves ? await ports.waves.list(limit) : [] };
}

async function getWave(waveId: string, ports: ApprovalsApiPorts) {
  const wave = ports.waves ? await ports.waves.get(waveId) : undefined;
  if (!wave) throw new NotFound(`wave ${waveId} does not exist`);
  return { wave };
}
