import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { InvalidDocument } from './errors';
import { detailTypes, type Outcome, outcomeSchema, type Reason, reasonSchema } from './events/upshift-events';
import { strictObject } from './strict-object';
import { describeIssues } from './zod-issues';

/**
 * Feedback to CI (docs/ci-feedback.md): every terminal outcome Upshift emits, and optionally each
 * stage, reaches the CI that published the version. Pure: the configuration, the delivery key, the
 * bodies GitHub, GitLab and a generic webhook receive, and the webhook's HMAC-SHA256 signature.
 */

// ----- configuration ------------------------------------------------------------------------------

/**
 * A Secrets Manager secret's complete ARN, as the console and CreateSecret give it (the name, a dash
 * and six random characters). A partial ARN would need a wildcard grant; a name would need the
 * account's every secret.
 */
const secretArn = z
  .string({ error: 'expected the ARN of a Secrets Manager secret' })
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
    'expected the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-ABCDEF, with the six characters Secrets Manager appends)',
  );

/**
 * A Secrets Manager version id (a UUID as PutSecretValue and rotation make it). Set in a GitHub or
 * GitLab connection's dynamic reference, so that a new value reaches the connection: CloudFormation
 * copies the secret only when the resource's text changes (docs/ci-feedback.md, "Rotating a token").
 */
const secretVersionId = z
  .string()
  .regex(
    /^[A-Za-z0-9-]{32,64}$/,
    'expected a secret version id (32 to 64 letters, digits or -, such as a UUID)',
  );

/** The key of the JSON secret that holds the credential; absent: the whole SecretString. */
const jsonField = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a JSON key of the secret (letters, digits, _ . -)');

/** https anywhere; plain http only to this machine (a receiver under test, `upshift up`). */
function httpsOrLoopback(what: string, example: string) {
  return z
    .string({ error: `expected ${what}` })
    .url(`expected an absolute URL such as ${example}`)
    .refine((text) => {
      const url = new URL(text);
      if (url.protocol === 'https:') return true;
      return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    }, 'expected an https URL (plain http only to 127.0.0.1, localhost or [::1])');
}

export const webhookUrl = httpsOrLoopback('the receiver URL', 'https://ci.example.com/upshift').refine(
  (text) => !new URL(text).username && !new URL(text).password,
  {
    error: 'expected no credentials in the URL: the secret signs the body instead',
  },
);

const githubName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'expected a GitHub owner or repository name (letters, digits, _ . -)');

export const githubFeedbackSchema = strictObject({
  owner: githubName,
  repo: githubName,
  /**
   * `repository_dispatch` (POST /repos/{owner}/{repo}/dispatches). `deployment_status` is refused
   * with the reason: it needs the GitHub deployment's id, which no Upshift event carries
   * (docs/decisions/0035-ci-feedback-channels.md).
   */
  mode: z.enum(['repository_dispatch', 'deployment_status'], {
    error: 'expected "repository_dispatch" (or "deployment_status", not supported yet)',
  }),
  secretArn,
  /** The JSON key holding the token; the whole SecretString when absent. */
  secretJsonField: jsonField.optional(),
  /** The version of the secret the connection copies; AWSCURRENT at the last update when absent. */
  secretVersionId: secretVersionId.optional(),
  /** The dispatch's `event_type` prefix: `<prefix>-completed`, `<prefix>-rolled-back`... */
  eventTypePrefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,59}$/, 'expected lowercase letters, digits, _ . - (up to 60)')
    .default('upshift'),
  /** GitHub Enterprise Server: https://HOST/api/v3. */
  apiUrl: httpsOrLoopback('the API URL', 'https://api.github.com')
    .transform((u) => u.replace(/\/+$/, ''))
    .default('https://api.github.com'),
});

export const gitlabFeedbackSchema = strictObject({
  /** The numeric project id, or its URL-encoded path (`group%2Fproject`). */
  projectId: z.union([
    z.number().int().positive(),
    z
      .string()
      .regex(/^(\d+|[A-Za-z0-9_.-]+(%2F[A-Za-z0-9_.-]+)+)$/, 'expected a project id or a URL-encoded path'),
  ]),
  /**
   * `trigger` (POST /projects/:id/trigger/pipeline with a pipeline trigger token). `deployment`
   * is refused with the reason (the deployments API needs the commit's sha and a ref Upshift's
   * events do not carry; decision 0035).
   */
  mode: z.enum(['trigger', 'deployment'], {
    error: 'expected "trigger" (or "deployment", not supported yet)',
  }),
  /** The branch or tag the triggered pipeline runs on. */
  ref: z.string().min(1).max(255).default('main'),
  baseUrl: httpsOrLoopback('the GitLab URL', 'https://gitlab.com')
    .transform((u) => u.replace(/\/+$/, ''))
    .default('https://gitlab.com'),
  secretArn,
  secretJsonField: jsonField.optional(),
  /** The version of the secret the connection copies; AWSCURRENT at the last update when absent. */
  secretVersionId: secretVersionId.optional(),
});

export const webhookFeedbackSchema = strictObject({
  url: webhookUrl,
  /** The HMAC key: the whole SecretString, or one JSON key of it. */
  secretArn,
  secretJsonField: jsonField.optional(),
  /** The customer managed KMS key that encrypts the secret, if not the default aws/secretsmanager. */
  kmsKeyArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/,
      'expected the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT:key/ID)',
    )
    .optional(),
  /** How long one POST may take (the function's timeout is longer). */
  timeoutSeconds: z.number().int().min(1).max(30).default(10),
});

export const ciFeedbackConfigSchema = strictObject({
  github: githubFeedbackSchema.optional(),
  gitlab: gitlabFeedbackSchema.optional(),
  webhook: webhookFeedbackSchema.optional(),
  /** Also each stage (Approval Requested, Upgrade Deferred, and Upgrade Started where emitted). */
  stages: z.boolean().default(false),
  /** Only these outcomes; every terminal outcome when absent. */
  outcomes: z.array(outcomeSchema).min(1).optional(),
})
  .refine((c) => c.github || c.gitlab || c.webhook, {
    error: 'expected at least one of github, gitlab or webhook',
  })
  .superRefine((c, ctx) => {
    if (c.github?.mode === 'deployment_status') {
      ctx.addIssue({
        code: 'custom',
        path: ['github', 'mode'],
        message:
          'deployment_status is not supported: a deployment status is posted to /deployments/{deployment_id}/statuses, and no Upshift event carries the GitHub deployment id; use "repository_dispatch" and set the status from the workflow it starts (docs/ci-feedback.md)',
      });
    }
    if (c.gitlab?.mode === 'deployment') {
      ctx.addIssue({
        code: 'custom',
        path: ['gitlab', 'mode'],
        message:
          'deployment is not supported: the GitLab deployments API needs the commit sha and ref of the deployment, which Upshift events do not carry; use "trigger" (docs/ci-feedback.md)',
      });
    }
  });

/** The CDK context key that turns feedback on without code: a JSON object, JSON text or a file. */
export const ciFeedbackContextKey = 'upshift:ciFeedback';

export type CiFeedbackConfig = z.infer<typeof ciFeedbackConfigSchema>;
export type CiFeedbackInput = z.input<typeof ciFeedbackConfigSchema>;
export type FeedbackChannel = 'webhook' | 'github' | 'gitlab';

/**
 * Parses a feedback configuration; every problem names its path (`webhook.url: expected ...`).
 *
 * @example
 * parseCiFeedbackConfig({ webhook: { url: 'https://ci.example.com/upshift', secretArn } }, 'upshift:ciFeedback')
 */
export function parseCiFeedbackConfig(
  document: unknown,
  name = 'CI feedback configuration',
): CiFeedbackConfig {
  const result = ciFeedbackConfigSchema.safeParse(document);
  if (!result.success) throw new InvalidDocument(name, describeIssues(result.error));
  return result.data;
}

/** The channels a configuration turns on, in a fixed order. */
export function channelsOf(config: CiFeedbackConfig): FeedbackChannel[] {
  return (['webhook', 'github', 'gitlab'] as const).filter((c) => config[c] !== undefined);
}

// ----- which events -------------------------------------------------------------------------------

/** Upshift's own event source. */
export const upshiftSource = 'upshift';
/** The source of the requests the notifier forwards to the API destinations' rules. */
export const feedbackSource = 'upshift.ci-feedback';
export const feedbackDetailType = 'CI Feedback Requested';

/** Stage events CI may also follow (`stages: true`). */
export const stageDetailTypes = [
  detailTypes.started,
  detailTypes.approvalRequested,
  detailTypes.DEFERRED,
] as const;

/**
 * The rule patterns, defined once (the CDK rules and the twin's bus use these). A terminal outcome
 * is any Upshift event whose detail carries `outcome` (Record emits it; Decide's deferral carries
 * none), so a new outcome's detail-type (Upgrade Shadowed) needs no change here.
 */
export function feedbackPatterns(config: Pick<CiFeedbackConfig, 'stages' | 'outcomes'>) {
  return {
    outcomes: {
      source: [upshiftSource],
      detail: { outcome: config.outcomes ? [...config.outcomes] : [{ exists: true }] },
    },
    ...(config.stages
      ? {
          stages: {
            source: [upshiftSource],
            'detail-type': [...stageDetailTypes],
            detail: { outcome: [{ exists: false }] },
          },
        }
      : {}),
  };
}

/** What a channel's rule matches: the requests the notifier forwards for it. */
export function forwardedPattern(channel: Exclude<FeedbackChannel, 'webhook'>) {
  return { source: [feedbackSource], 'detail-type': [feedbackDetailType], detail: { channel: [channel] } };
}

// ----- the notice ---------------------------------------------------------------------------------

/** The EventBridge event the notifier receives (an Upshift event; fields it does not use pass). */
export const upshiftEventSchema = z.object({
  id: z.string().min(1),
  source: z.literal(upshiftSource),
  'detail-type': z.string().min(1),
  time: z.string().min(1),
  detail: z
    .object({
      workflowId: z.string().min(1),
      component: z.string().optional(),
      environment: z.string().optional(),
      version: z.string().optional(),
      outcome: outcomeSchema.optional(),
      reasons: z.array(reasonSchema).default([]),
      approvalId: z.string().optional(),
      deferUntil: z.string().optional(),
    })
    .loose(),
});
export type UpshiftEvent = z.infer<typeof upshiftEventSchema>;

/** One thing to tell CI: an outcome (or a stage) of one workflow, with its delivery identity. */
export interface FeedbackNotice {
  /**
   * What makes two deliveries the same: the workflow and its outcome (a retried Record publishes
   * its outcome again under a new event id), or for a stage the workflow, the stage and what
   * identifies it (the approval, the deferral's end), else the event id.
   */
  key: string;
  /** A stable id for receivers to dedupe on: 32 hex characters of SHA-256 of the key. */
  deliveryId: string;
  type: string;
  workflowId: string;
  component: string;
  environment: string;
  version: string;
  /** Empty for a stage. */
  outcome: Outcome | '';
  reasons: Reason[];
  /** The event's time. */
  time: string;
  approvalId?: string;
  deferUntil?: string;
}

export function noticeOf(event: UpshiftEvent): FeedbackNotice {
  const d = event.detail;
  const type = event['detail-type'];
  const key = d.outcome
    ? `${d.workflowId}#${d.outcome}`
    : `${d.workflowId}#${type}#${d.approvalId ?? d.deferUntil ?? event.id}`;
  return {
    key,
    deliveryId: createHash('sha256').update(key).digest('hex').slice(0, 32),
    type,
    workflowId: d.workflowId,
    component: d.component ?? '',
    environment: d.environment ?? '',
    version: d.version ?? '',
    outcome: d.outcome ?? '',
    reasons: d.reasons,
    time: event.time,
    ...(d.approvalId ? { approvalId: d.approvalId } : {}),
    ...(d.deferUntil ? { deferUntil: d.deferUntil } : {}),
  };
}

/**
 * A skip that is not an outcome of its own: a second delivery of a publication Intake already
 * handles (`SKIPPED`, first reason `DUPLICATE`). Each such delivery runs its own workflow, so its
 * skip would be a delivery with a new id, for a publication whose real outcome CI gets anyway.
 * (The rule pattern cannot say "first reason": EventBridge matches any element of an array.)
 */
export function isDuplicateSkip(notice: Pick<FeedbackNotice, 'outcome' | 'reasons'>): boolean {
  return notice.outcome === 'SKIPPED' && notice.reasons[0]?.code === 'DUPLICATE';
}

/** `Upgrade Rolled Back` → `rolled-back`; a stage → its own words (`approval-requested`). */
export function noticeSlug(notice: FeedbackNotice): string {
  const words = notice.outcome ? notice.outcome : notice.type.replace(/^Upgrade /, '');
  return words.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

// ----- the generic webhook ------------------------------------------------------------------------

export const webhookHeaders = {
  signature: 'X-Upshift-Signature',
  timestamp: 'X-Upshift-Timestamp',
  delivery: 'X-Upshift-Delivery',
  event: 'X-Upshift-Event',
  idempotency: 'Idempotency-Key',
} as const;

/** What every channel's body says of a notice, in this order (GitHub's payload: 9 of its 10 properties). */
function noticeFields(notice: FeedbackNotice) {
  return {
    deliveryId: notice.deliveryId,
    type: notice.type,
    workflowId: notice.workflowId,
    component: notice.component,
    environment: notice.environment,
    version: notice.version,
    outcome: notice.outcome || null,
    reasons: notice.reasons,
    time: notice.time,
  };
}

/** The webhook's JSON body, schema version 1 (docs/ci-feedback.md). */
export function webhookBody(notice: FeedbackNotice): string {
  return JSON.stringify({
    schemaVersion: '1',
    ...noticeFields(notice),
    ...(notice.approvalId ? { approvalId: notice.approvalId } : {}),
    ...(notice.deferUntil ? { deferUntil: notice.deferUntil } : {}),
  });
}

/**
 * `sha256=<hex>`: HMAC-SHA256 with the secret over `<timestamp>.<raw body>`, the timestamp being
 * the Unix seconds sent in X-Upshift-Timestamp. Signing the timestamp with the body lets a receiver
 * refuse a replayed request whose timestamp it judges too old.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Every header of one webhook request. */
export function webhookRequestHeaders(
  notice: FeedbackNotice,
  secret: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'Upshift-CI-Feedback/1',
    [webhookHeaders.signature]: signWebhook(secret, timestamp, body),
    [webhookHeaders.timestamp]: String(timestamp),
    [webhookHeaders.delivery]: notice.deliveryId,
    [webhookHeaders.event]: notice.type,
    [webhookHeaders.idempotency]: notice.deliveryId,
  };
}

/**
 * What a receiver does (docs/ci-feedback.md has the same in a few lines): recompute the signature
 * over the raw body, compare in constant time, refuse a timestamp more than `toleranceSeconds`
 * away from now.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSeconds: number;
  toleranceSeconds?: number;
}): { valid: true } | { valid: false; reason: string } {
  const t = Number(input.timestamp);
  if (!input.timestamp || !Number.isInteger(t)) return { valid: false, reason: 'no timestamp' };
  if (Math.abs(input.nowSeconds - t) > (input.toleranceSeconds ?? 300))
    return { valid: false, reason: 'timestamp outside the tolerance' };
  const expected = Buffer.from(signWebhook(input.secret, t, input.body));
  const given = Buffer.from(input.signature ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { valid: false, reason: 'signature mismatch' };
  return { valid: true };
}

/** How one HTTP answer counts: 2xx delivered; 408, 429 and 5xx worth retrying; other 4xx refused. */
export function classifyHttpStatus(status: number): 'delivered' | 'retry' | 'rejected' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}

// ----- GitHub and GitLab (through EventBridge API destinations) --------------------------------------

/**
 * `POST /repos/{owner}/{repo}/dispatches`: `event_type` (at most 100 characters) and
 * `client_payload` (at most 10 top-level properties; this has 9).
 */
export function githubDispatchBody(notice: FeedbackNotice, eventTypePrefix: string) {
  return {
    event_type: `${eventTypePrefix}-${noticeSlug(notice)}`.slice(0, 100),
    client_payload: noticeFields(notice),
  };
}

/**
 * `POST /projects/:id/trigger/pipeline` with JSON `{ ref, variables }` (the trigger token goes in
 * the query string, from the connection). Variables are strings; the reasons are JSON.
 */
export function gitlabTriggerBody(notice: FeedbackNotice, ref: string) {
  return {
    ref,
    variables: {
      UPSHIFT_DELIVERY_ID: notice.deliveryId,
      UPSHIFT_EVENT: notice.type,
      UPSHIFT_WORKFLOW_ID: notice.workflowId,
      UPSHIFT_COMPONENT: notice.component,
      UPSHIFT_ENVIRONMENT: notice.environment,
      UPSHIFT_VERSION: notice.version,
      UPSHIFT_OUTCOME: notice.outcome,
      UPSHIFT_REASONS: JSON.stringify(notice.reasons),
      UPSHIFT_TIME: notice.time,
    },
  };
}

/**
 * The detail of the `CI Feedback Requested` event the notifier puts on the bus for one API
 * destination, once per delivery: the channel's rule matches it and its input transformer picks
 * `body` apart into the request GitHub or GitLab documents; `deliveryId` becomes a header.
 */
export function forwardedDetail(
  notice: FeedbackNotice,
  channel: Exclude<FeedbackChannel, 'webhook'>,
  config: { github?: { eventTypePrefix: string }; gitlab?: { ref: string } },
): Record<string, unknown> {
  const body =
    channel === 'github'
      ? githubDispatchBody(notice, config.github?.eventTypePrefix ?? 'upshift')
      : gitlabTriggerBody(notice, config.gitlab?.ref ?? 'main');
  return { channel, deliveryId: notice.deliveryId, workflowId: notice.workflowId, body };
}

// ----- what the function is told ------------------------------------------------------------------

/** The notifier's runtime configuration (env UPSHIFT_CI_FEEDBACK): no secret, only where it is. */
export const notifierConfigSchema = z.object({
  webhook: z
    .object({
      url: z.string().url(),
      secretArn: z.string().min(1),
      secretJsonField: z.string().optional(),
      timeoutSeconds: z.number().int().positive(),
    })
    .optional(),
  github: z.object({ eventTypePrefix: z.string() }).optional(),
  gitlab: z.object({ ref: z.string() }).optional(),
});
export type NotifierConfig = z.infer<typeof notifierConfigSchema>;

export function notifierConfigOf(config: CiFeedbackConfig): NotifierConfig {
  return {
    ...(config.webhook
      ? {
          webhook: {
            url: config.webhook.url,
            secretArn: config.webhook.secretArn,
            ...(config.webhook.secretJsonField ? { secretJsonField: config.webhook.secretJsonField } : {}),
            timeoutSeconds: config.webhook.timeoutSeconds,
          },
        }
      : {}),
    ...(config.github ? { github: { eventTypePrefix: config.github.eventTypePrefix } } : {}),
    ...(config.gitlab ? { gitlab: { ref: config.gitlab.ref } } : {}),
  };
}

// ----- errors -------------------------------------------------------------------------------------

/**
 * A delivery that may succeed later (a 5xx, a 429, a timeout, a network error, a dependency that
 * failed): the invocation fails so that the rule's retry policy or Lambda's async retries send it
 * again, and the dead-letter queue keeps it once they are spent.
 */
export class CiDeliveryFailed extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CiDeliveryFailed';
  }
}

/**
 * The receiver refused the delivery for good (a 4xx other than 408 and 429): it is recorded and
 * never sent again; the invocation fails without retry value, so the event reaches the DLQ.
 */
export class CiDeliveryRejected extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'CiDeliveryRejected';
  }
}
