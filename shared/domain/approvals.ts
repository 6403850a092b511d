/**
 * Approvals as people see them: who is asking (an identity from authentication, never from a
 * request body), whether they may answer, and what the console, the API and the notification
 * show. Pure: the caller passes the time.
 */

/**
 * The reminder Upshift emits once per pending approval before it expires (source `upshift`,
 * schema version 1, docs/approvals.md). `Approval Requested` is the request itself.
 */
export const approvalReminderDetailType = 'Approval Reminder';

/** Who answers, as authentication established it: a signed-in user (JWT) or an AWS principal (SigV4). */
export interface ApproverIdentity {
  /** The person's name: the user pool's username, or the principal's user or session name. */
  name: string;
  /** Groups the identity belongs to: the user pool's groups, or `iam:role/NAME` and the principal's ARN. */
  groups: string[];
  via: 'jwt' | 'iam';
}

/**
 * The identity in a verified JWT's claims. API Gateway's HTTP API hands array claims over as one
 * string, `[release-managers sre]`; a verifier hands them over as an array. Both are read.
 */
export function identityFromClaims(claims: Record<string, unknown>): ApproverIdentity | undefined {
  const name = firstString(claims['cognito:username'], claims.username, claims.sub);
  if (!name) return undefined;
  return { name, groups: listClaim(claims['cognito:groups']), via: 'jwt' };
}

/**
 * The identity of a SigV4 caller, from API Gateway's IAM authorizer context. A policy names either
 * principals (their ARN) or groups of them: the role an assumed-role session belongs to
 * (`iam:role/Approvers`) or a user (`iam:user/alice`).
 */
export function identityFromIamPrincipal(iam: { userArn?: unknown }): ApproverIdentity | undefined {
  const arn = typeof iam.userArn === 'string' ? iam.userArn : '';
  const assumed = /^arn:[^:]+:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (assumed) {
    const [, role, session] = assumed as unknown as [string, string, string];
    return { name: session, groups: [`iam:role/${role}`, arn], via: 'iam' };
  }
  const user = /^arn:[^:]+:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (user) {
    const name = user[1] as string;
    return { name, groups: [`iam:user/${name}`, arn], via: 'iam' };
  }
  return undefined;
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v.length > 0) return v;
  return undefined;
}

function listClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value !== 'string' || value.length === 0) return [];
  const inner = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return inner.split(/[\s,]+/).filter(Boolean);
}

/**
 * Keys that would carry an identity in a request body. Identity comes from authentication only,
 * so a body that names one is refused rather than ignored: the caller learns that it does not work.
 */
export const identityKeys = [
  'by',
  'approver',
  'approvers',
  'user',
  'username',
  'identity',
  'groups',
  'as',
  'principal',
] as const;

export function identityKeysIn(body: unknown): string[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
  return identityKeys.filter((k) => Object.hasOwn(body, k));
}

/** Why an answer is refused: the HTTP status, a stable code and a sentence for the person. */
export interface Refusal {
  status: 401 | 403 | 404 | 409;
  code:
    | 'NO_IDENTITY'
    | 'NOT_FOUND'
    | 'ALREADY_DECIDED'
    | 'EXPIRED'
    | 'NOT_IN_APPROVER_GROUP'
    | 'SEPARATION_OF_DUTIES';
  message: string;
}

/** What the checks read of an approval. */
export interface ApprovalFacts {
  approvalId: string;
  component: string;
  version: string;
  environment: string;
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
  groups: readonly string[];
  allowPublisher: boolean;
  publishedBy?: string | undefined;
  expiresAt: string;
  decidedBy?: string | undefined;
  approvers: readonly { by: string }[];
}

/**
 * Whether this person already answered: a vote among the approvers, or the decision itself.
 * A repeat of the same answer changes nothing and says so, before any other check.
 */
export function alreadyAnsweredBy(approval: ApprovalFacts, name: string): boolean {
  return approval.approvers.some((a) => a.by === name) || approval.decidedBy === name;
}

/**
 * The first reason `identity` may not answer `approval` at `now`, or undefined when it may.
 * 1. it is still pending (else 409 with what happened); 2. it has not expired (409);
 * 3. the publisher does not approve their own change where the policy forbids it (403);
 * 4. the person is in one of the policy's groups, when the policy names groups (403).
 */
export function refusalFor(
  approval: ApprovalFacts,
  identity: ApproverIdentity,
  now: Date,
): Refusal | undefined {
  const what = `${approval.component} ${approval.version} to ${approval.environment}`;
  if (approval.status !== 'PENDING') {
    return {
      status: 409,
      code: approval.status === 'EXPIRED' ? 'EXPIRED' : 'ALREADY_DECIDED',
      message:
        approval.status === 'EXPIRED'
          ? `approval ${approval.approvalId} (${what}) expired at ${approval.expiresAt}; nothing was changed`
          : `approval ${approval.approvalId} (${what}) is already ${approval.status}${
              approval.decidedBy ? ` by ${approval.decidedBy}` : ''
            }; nothing was changed`,
    };
  }
  if (Date.parse(approval.expiresAt) <= now.getTime()) {
    return {
      status: 409,
      code: 'EXPIRED',
      message: `approval ${approval.approvalId} (${what}) expired at ${approval.expiresAt}; nothing was changed`,
    };
  }
  if (!approval.allowPublisher && approval.publishedBy && approval.publishedBy === identity.name) {
    return {
      status: 403,
      code: 'SEPARATION_OF_DUTIES',
      message: `${identity.name} published ${what} and the ${approval.environment} policy does not let a publisher approve their own change`,
    };
  }
  if (approval.groups.length > 0 && !identity.groups.some((g) => approval.groups.includes(g))) {
    return {
      status: 403,
      code: 'NOT_IN_APPROVER_GROUP',
      message: `${identity.name} is not in an approver group of the ${approval.environment} policy (${approval.groups.join(', ')})`,
    };
  }
  return undefined;
}

/**
 * When the one reminder goes out: an hour before expiry, or a quarter of the wait before it when
 * the wait is shorter than four hours. Never before the request itself.
 */
export function reminderAt(requestedAt: string, expiresAt: string): string {
  const start = Date.parse(requestedAt);
  const end = Date.parse(expiresAt);
  const lead = Math.min(60 * 60_000, (end - start) / 4);
  return new Date(Math.max(start, end - lead)).toISOString();
}

/** The console's page for one approval, under the console's base URL. */
export function approvalLink(consoleUrl: string, approvalId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/#/approvals/${encodeURIComponent(approvalId)}`;
}

/** The one line a subscriber reads: what, where, how risky, until when, and where to answer. */
export function approvalSummary(
  approval: {
    approvalId: string;
    component: string;
    version: string;
    environment: string;
    expiresAt: string;
    risk?: string | undefined;
  },
  link: string | undefined,
  kind: 'request' | 'reminder' = 'request',
): string {
  const lead = kind === 'reminder' ? 'Reminder: approval still needed' : 'Approval needed';
  const risk = approval.risk ? ` (${approval.risk} risk)` : '';
  return `${lead}: ${approval.component} ${approval.version} to ${approval.environment}${risk}, expires ${approval.expiresAt}${
    link ? `: ${link}` : ` (approval ${approval.approvalId})`
  }`;
}

/** Pending approvals narrowed by component and environment, oldest first. */
export function filterApprovals<T extends { component: string; environment: string }>(
  approvals: readonly T[],
  filter: { component?: string | undefined; environment?: string | undefined },
): T[] {
  return approvals.filter(
    (a) =>
      (!filter.component || a.component === filter.component) &&
      (!filter.environment || a.environment === filter.environment),
  );
}
