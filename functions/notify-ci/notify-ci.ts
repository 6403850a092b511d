import type { FeedbackClaims } from '../../shared/aws/feedback-claims';
import type { SecretReader } from '../../shared/aws/secrets-manager';
import {
  CiDeliveryFailed,
  CiDeliveryRejected,
  classifyHttpStatus,
  type FeedbackChannel,
  type FeedbackNotice,
  feedbackDetailType,
  feedbackSource,
  forwardedDetail,
  isDuplicateSkip,
  type NotifierConfig,
  noticeOf,
  type UpshiftEvent,
  webhookBody,
  webhookRequestHeaders,
} from '../../shared/domain/feedback';
import type { Clock, EventPublisher } from '../../shared/ports';

/** One HTTP POST; throws on a network error or when `timeoutMs` passes. */
export type Post = (
  url: string,
  request: { headers: Record<string, string>; body: string; timeoutMs: number },
) => Promise<{ status: number; text: string }>;

export interface NotifyCiPorts {
  config: NotifierConfig;
  claims: FeedbackClaims;
  secrets: SecretReader;
  events: EventPublisher;
  post: Post;
  clock: Clock;
  /** Logs what happened to each delivery (never a secret). */
  log: (message: string, fields: Record<string, unknown>) => void;
  /** Logs a delivery that needs a person (a send Upshift could not record). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
  /** Waits between attempts at recording a result (real time by default; tests pass their own). */
  sleep?: (ms: number) => Promise<void>;
}

/** Longer than the function's 60 s timeout, so a running delivery is never taken from under it. */
export const CLAIM_LEASE_SECONDS = 90;

/**
 * Waits before each further attempt at recording a result once the receiver answered (about 15 s in
 * all, on top of the SDK's own retries): the webhook's timeout is at most 30 s, the function's 60 s.
 */
export const FINISH_BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000] as const;

/**
 * `sent-unrecorded`: the receiver took it, but the table refused every attempt at recording it; the
 * claim is kept (never released) and the invocation succeeds, so no retry sends it again. A
 * duplicate event after the lease lapsed would (decision 0034, "What this does not guarantee").
 */
export type ChannelResult = 'sent' | 'sent-unrecorded' | 'already-sent' | 'in-flight' | 'rejected' | 'failed';

/**
 * Tells CI about one Upshift event, at most once per delivery (decision 0034).
 * A duplicate delivery's skip is not sent (`isDuplicateSkip`). Primary course, for each
 * configured channel:
 * 1. claim the delivery (workflow + outcome + channel) in the table; one already sent is skipped;
 * 2. webhook: read the HMAC key, sign `<timestamp>.<body>`, POST it; GitHub or GitLab: put one
 *    `CI Feedback Requested` event on the bus for the channel's API destination rule;
 * 3. record it sent; a 4xx is recorded as refused for good; anything worth retrying gives the
 *    claim back and fails the invocation, so the retry policy sends it again. Once the receiver
 *    answered, recording is retried with backoff and the claim is never given back: a send the
 *    table would not record is logged and lets its lease lapse (`sent-unrecorded`).
 */
export async function notifyCi(
  event: UpshiftEvent,
  ports: NotifyCiPorts,
  invocationId: string,
): Promise<{ deliveryId: string; channels: Partial<Record<FeedbackChannel, ChannelResult>> }> {
  const notice = noticeOf(event);
  const channels: Partial<Record<FeedbackChannel, ChannelResult>> = {};
  if (isDuplicateSkip(notice)) {
    ports.log('ci feedback not sent: a duplicate delivery skipped', {
      deliveryId: notice.deliveryId,
      workflowId: notice.workflowId,
      reason: notice.reasons[0]?.message,
    });
    return { deliveryId: notice.deliveryId, channels };
  }
  const failures: string[] = [];
  const refusals: string[] = [];
  for (const channel of (['webhook', 'github', 'gitlab'] as const).filter((c) => ports.config[c])) {
    const now = ports.clock.now().getTime();
    const claim = await ports.claims.claim(notice.key, channel, invocationId, now, CLAIM_LEASE_SECONDS);
    if (claim.state === 'sent') channels[channel] = 'already-sent';
    else if (claim.state === 'busy') channels[channel] = 'in-flight';
    else if (claim.state === 'rejected') {
      channels[channel] = 'rejected';
      refusals.push(`${channel}: ${claim.detail}`);
    } else {
      let result: SendResult;
      try {
        result = await send(channel, notice, ports);
      } catch (error) {
        // A secret that cannot be read, a bus that refused the forward: nothing went out, give it back.
        result = { kind: 'retry', detail: `${(error as Error).name}: ${(error as Error).message}` };
      }
      if (result.kind === 'retry') {
        await ports.claims.release(notice.key, channel, invocationId);
        channels[channel] = 'failed';
        failures.push(`${channel}: ${result.detail}`);
      } else {
        // The receiver answered: from here the claim is never given back, whatever the table says,
        // or the retry would send it again (decision 0034).
        const outcome = result.kind === 'delivered' ? 'SENT' : 'REJECTED';
        const recorded = await finishWithRetry(notice, channel, outcome, result.detail, ports);
        if (result.kind === 'delivered') channels[channel] = recorded ? 'sent' : 'sent-unrecorded';
        else {
          channels[channel] = 'rejected';
          refusals.push(`${channel}: ${result.detail}`);
        }
      }
    }
    ports.log('ci feedback', {
      channel,
      result: channels[channel],
      deliveryId: notice.deliveryId,
      workflowId: notice.workflowId,
      type: notice.type,
      outcome: notice.outcome,
      ...(claim.state === 'claimed' ? { attempt: claim.attempts } : {}),
    });
  }
  if (failures.length) throw new CiDeliveryFailed(`delivery ${notice.deliveryId}: ${failures.join('; ')}`);
  if (refusals.length)
    throw new CiDeliveryRejected(`delivery ${notice.deliveryId} refused: ${refusals.join('; ')}`);
  return { deliveryId: notice.deliveryId, channels };
}

/**
 * Records the receiver's answer, retrying with backoff: true once recorded, false when every
 * attempt failed (then the claim stays `SENDING` under this invocation's lease, never released).
 */
async function finishWithRetry(
  notice: FeedbackNotice,
  channel: FeedbackChannel,
  outcome: 'SENT' | 'REJECTED',
  detail: string,
  ports: NotifyCiPorts,
): Promise<boolean> {
  const sleep = ports.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      await ports.claims.finish(notice.key, channel, outcome, ports.clock.now().getTime(), detail);
      return true;
    } catch (error) {
      const wait = FINISH_BACKOFF_MS[attempt];
      if (wait === undefined) {
        (ports.warn ?? ports.log)('ci feedback sent but not recorded', {
          channel,
          outcome,
          deliveryId: notice.deliveryId,
          workflowId: notice.workflowId,
          error: `${(error as Error).name}: ${(error as Error).message}`,
          attempts: attempt + 1,
        });
        return false;
      }
      await sleep(wait);
    }
  }
}

type SendResult = { kind: 'delivered' | 'retry' | 'rejected'; detail: string };

async function send(
  channel: FeedbackChannel,
  notice: FeedbackNotice,
  ports: NotifyCiPorts,
): Promise<SendResult> {
  if (channel !== 'webhook') {
    await ports.events.publish([
      {
        source: feedbackSource,
        detailType: feedbackDetailType,
        detail: forwardedDetail(notice, channel, ports.config),
      },
    ]);
    return { kind: 'delivered', detail: 'handed to the API destination rule' };
  }
  const webhook = ports.config.webhook;
  if (!webhook) throw new Error('no webhook configured');
  const secret = await ports.secrets.read(webhook.secretArn, webhook.secretJsonField);
  const body = webhookBody(notice);
  const timestamp = Math.floor(ports.clock.now().getTime() / 1000);
  let answer: { status: number; text: string };
  try {
    answer = await ports.post(webhook.url, {
      headers: webhookRequestHeaders(notice, secret, timestamp, body),
      body,
      timeoutMs: webhook.timeoutSeconds * 1000,
    });
  } catch (error) {
    return { kind: 'retry', detail: `no answer: ${(error as Error).name}: ${(error as Error).message}` };
  }
  const kind = classifyHttpStatus(answer.status);
  return { kind, detail: `HTTP ${answer.status}${answer.text ? `: ${answer.text.slice(0, 200)}` : ''}` };
}
