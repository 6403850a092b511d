import { describe, expect, it } from 'vitest';
import { FINISH_BACKOFF_MS, notifyCi, type Post } from '../../functions/notify-ci/notify-ci';
import type { ClaimState, FeedbackClaims } from '../../shared/aws/feedback-claims';
import { matchesPattern } from '../../shared/domain/event-pattern';
import {
  CiDeliveryFailed,
  CiDeliveryRejected,
  classifyHttpStatus,
  feedbackPatterns,
  forwardedPattern,
  githubDispatchBody,
  gitlabTriggerBody,
  isDuplicateSkip,
  noticeOf,
  signWebhook,
  upshiftEventSchema,
  verifyWebhookSignature,
  webhookBody,
} from '../../shared/domain/feedback';
import type { OutboundEvent } from '../../shared/ports';

const event = (over: Record<string, unknown> = {}, type = 'Upgrade Completed') =>
  upshiftEventSchema.parse({
    id: 'e-1',
    source: 'upshift',
    'detail-type': type,
    time: '2026-12-02T10:00:00Z',
    detail: {
      schemaVersion: '1',
      workflowId: 'wf-1',
      component: 'checkout',
      environment: 'production',
      version: '1.1.0',
      outcome: 'COMPLETED',
      reasons: [{ code: 'DEPLOYED', message: 'ok "quoted"' }],
      ...over,
    },
  });

describe('feedback domain', () => {
  it('one delivery id per workflow and outcome, whatever the event id; stages keyed by what they are', () => {
    const a = noticeOf(event());
    const b = noticeOf({ ...event(), id: 'e-2' });
    expect(a.deliveryId).toBe(b.deliveryId);
    expect(a.deliveryId).toMatch(/^[0-9a-f]{32}$/);
    expect(noticeOf(event({ outcome: 'ROLLED_BACK' })).deliveryId).not.toBe(a.deliveryId);
    const stage = noticeOf(event({ outcome: undefined, approvalId: 'ap-1' }, 'Approval Requested'));
    expect(stage.key).toBe('wf-1#Approval Requested#ap-1');
    expect(stage.outcome).toBe('');
  });

  it('signs timestamp.body with HMAC-SHA256 and verifies in constant time within the tolerance', () => {
    const body = webhookBody(noticeOf(event()));
    const signature = signWebhook('k', 1_800_000_000, body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    const check = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({
        secret: 'k',
        body,
        timestamp: '1800000000',
        signature,
        nowSeconds: 1_800_000_100,
        ...over,
      });
    expect(check({})).toEqual({ valid: true });
    expect(check({ secret: 'other' })).toEqual({ valid: false, reason: 'signature mismatch' });
    expect(check({ body: `${body} ` })).toEqual({ valid: false, reason: 'signature mismatch' });
    expect(check({ nowSeconds: 1_800_000_301 })).toEqual({
      valid: false,
      reason: 'timestamp outside the tolerance',
    });
    expect(check({ timestamp: undefined })).toEqual({ valid: false, reason: 'no timestamp' });
  });

  it('classifies answers: 2xx delivered, 408/429/5xx retried, other 4xx refused', () => {
    expect([200, 204, 408, 429, 500, 503, 400, 401, 404, 422, 302].map(classifyHttpStatus)).toEqual([
      'delivered',
      'delivered',
      'retry',
      'retry',
      'retry',
      'retry',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
  });

  it('builds the bodies GitHub and GitLab document', () => {
    const notice = noticeOf(event({ outcome: 'ROLLED_BACK' }, 'Upgrade Rolled Back'));
    const github = githubDispatchBody(notice, 'upshift');
    expect(github.event_type).toBe('upshift-rolled-back');
    expect(Object.keys(github.client_payload).length).toBeLessThanOrEqual(10);
    const gitlab = gitlabTriggerBody(notice, 'main');
    expect(gitlab.ref).toBe('main');
    expect(Object.values(gitlab.variables).every((v) => typeof v === 'string')).toBe(true);
    expect(JSON.parse(gitlab.variables.UPSHIFT_REASONS)).toEqual(notice.reasons);
  });

  it('the rule patterns match outcomes (any detail-type carrying one) and, with stages, stage events', () => {
    const patterns = feedbackPatterns({ stages: true });
    const raw = (type: string, detail: Record<string, unknown>) => ({
      source: 'upshift',
      'detail-type': type,
      detail,
    });
    expect(matchesPattern(patterns.outcomes, raw('Upgrade Shadowed', { outcome: 'SHADOWED' }))).toBe(true);
    expect(matchesPattern(patterns.outcomes, raw('Upgrade Deferred', { deferUntil: 'x' }))).toBe(false);
    expect(matchesPattern(patterns.stages ?? {}, raw('Upgrade Deferred', { deferUntil: 'x' }))).toBe(true);
    expect(matchesPattern(patterns.stages ?? {}, raw('Upgrade Deferred', { outcome: 'DEFERRED' }))).toBe(
      false,
    );
    const only = feedbackPatterns({ stages: false, outcomes: ['ROLLED_BACK'] });
    expect(only.stages).toBeUndefined();
    expect(matchesPattern(only.outcomes, raw('Upgrade Completed', { outcome: 'COMPLETED' }))).toBe(false);
    expect(
      matchesPattern(forwardedPattern('github'), {
        source: 'upshift.ci-feedback',
        'detail-type': 'CI Feedback Requested',
        detail: { channel: 'github' },
      }),
    ).toBe(true);
  });
});

/** Claims in memory with the store's semantics (the adapter test checks the real one). */
class MemoryClaims implements FeedbackClaims {
  readonly items = new Map<
    string,
    { state: string; lease: number; owner: string; attempts: number; detail?: string }
  >();
  async claim(
    key: string,
    channel: string,
    owner: string,
    nowMs: number,
    lease: number,
  ): Promise<ClaimState> {
    const id = `${key}|${channel}`;
    const item = this.items.get(id);
    if (!item || (item.state === 'SENDING' && item.lease < nowMs / 1000)) {
      const attempts = (item?.attempts ?? 0) + 1;
      this.items.set(id, { state: 'SENDING', lease: nowMs / 1000 + lease, owner, attempts });
      return { state: 'claimed', attempts };
    }
    if (item.state === 'SENT') return { state: 'sent' };
    if (item.state === 'REJECTED') return { state: 'rejected', detail: item.detail ?? '' };
    return { state: 'busy' };
  }
  async finish(key: string, channel: string, outcome: 'SENT' | 'REJECTED', _now: number, detail: string) {
    const item = this.items.get(`${key}|${channel}`);
    if (item) Object.assign(item, { state: outcome, detail });
  }
  async release(key: string, channel: string, owner: string) {
    const item = this.items.get(`${key}|${channel}`);
    if (item?.state === 'SENDING' && item.owner === owner) item.lease = 0;
  }
}

function ports(
  post: Post,
  config = { webhook: { url: 'https://ci.example.com/h', secretArn: 'arn', timeoutSeconds: 5 } } as never,
) {
  const published: OutboundEvent[] = [];
  const claims = new MemoryClaims();
  return {
    published,
    claims,
    ports: {
      config,
      claims,
      secrets: { read: async () => 'k' },
      events: { publish: async (e: readonly OutboundEvent[]) => void published.push(...e) },
      post,
      clock: { now: () => new Date('2026-12-02T10:00:00Z') },
      log: () => undefined,
      sleep: async () => undefined,
    },
  };
}

describe('notifyCi', () => {
  it('POSTs the signed body with its delivery headers, then records it sent', async () => {
    const calls: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }[] = [];
    const { ports: p } = ports(async (url, r) => {
      calls.push({ url, ...r });
      return { status: 202, text: '' };
    });
    const out = await notifyCi(event(), p, 'inv-1');
    expect(out.channels).toEqual({ webhook: 'sent' });
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.timeoutMs).toBe(5000);
    expect(call?.headers['X-Upshift-Timestamp']).toBe('1796205600');
    expect(call?.headers['X-Upshift-Signature']).toBe(signWebhook('k', 1796205600, call?.body ?? ''));
    expect(await notifyCi(event(), p, 'inv-2')).toMatchObject({ channels: { webhook: 'already-sent' } });
  });

  it('a network error or timeout gives the claim back and fails the invocation for a retry', async () => {
    let fail = true;
    const { ports: p } = ports(async () => {
      if (fail)
        throw Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
      return { status: 200, text: '' };
    });
    await expect(notifyCi(event(), p, 'inv-1')).rejects.toThrow(CiDeliveryFailed);
    fail = false;
    expect((await notifyCi(event(), p, 'inv-2')).channels).toEqual({ webhook: 'sent' });
  });

  it('a 4xx is refused for good: recorded, the invocation fails without another POST', async () => {
    let posts = 0;
    const { ports: p } = ports(async () => {
      posts++;
      return { status: 401, text: 'bad signature' };
    });
    const first = notifyCi(event(), p, 'inv-1');
    await expect(first).rejects.toThrow(CiDeliveryRejected);
    await expect(notifyCi(event(), p, 'inv-2')).rejects.toThrow(/HTTP 401: bad signature/);
    expect(posts).toBe(1);
  });

  it('GitHub and GitLab: one forward per delivery to the API destination rules', async () => {
    const { ports: p, published } = ports(async () => ({ status: 200, text: '' }), {
      github: { eventTypePrefix: 'deploys' },
      gitlab: { ref: 'release' },
    } as never);
    await notifyCi(event(), p, 'inv-1');
    await notifyCi({ ...event(), id: 'dup' }, p, 'inv-2');
    expect(published.map((e) => [e.source, e.detailType, e.detail.channel])).toEqual([
      ['upshift.ci-feedback', 'CI Feedback Requested', 'github'],
      ['upshift.ci-feedback', 'CI Feedback Requested', 'gitlab'],
    ]);
    expect(published[0]?.detail.body).toMatchObject({ event_type: 'deploys-completed' });
    expect(published[1]?.detail.body).toMatchObject({
      ref: 'release',
      variables: { UPSHIFT_OUTCOME: 'COMPLETED' },
    });
  });

  it('a 2xx whose recording fails once is recorded on a retry: one POST, never given back', async () => {
    let posts = 0;
    const { ports: p, claims } = ports(async () => {
      posts++;
      return { status: 200, text: '' };
    });
    const finish = claims.finish.bind(claims);
    let finishFailures = 1;
    const released: string[] = [];
    claims.finish = async (...args) => {
      if (finishFailures-- > 0)
        throw Object.assign(new Error('Throughput exceeds the current capacity'), {
          name: 'ProvisionedThroughputExceededException',
        });
      return finish(...args);
    };
    const release = claims.release.bind(claims);
    claims.release = async (key, channel, owner) => {
      released.push(owner);
      return release(key, channel, owner);
    };
    expect((await notifyCi(event(), p, 'inv-1')).channels).toEqual({ webhook: 'sent' });
    expect(released).toEqual([]);
    expect(await notifyCi({ ...event(), id: 'e-retry' }, p, 'inv-2')).toMatchObject({
      channels: { webhook: 'already-sent' },
    });
    expect(posts).toBe(1);
  });

  it('a 2xx the table never records keeps its claim: the invocation succeeds, a duplicate sends nothing', async () => {
    let posts = 0;
    const waits: number[] = [];
    const warnings: Record<string, unknown>[] = [];
    const { ports: p, claims } = ports(async () => {
      posts++;
      return { status: 204, text: '' };
    });
    claims.finish = async () => {
      throw Object.assign(new Error('unavailable'), { name: 'InternalServerError' });
    };
    const out = await notifyCi(
      event(),
      {
        ...p,
        sleep: async (ms: number) => void waits.push(ms),
        warn: (_m: string, fields: Record<string, unknown>) => void warnings.push(fields),
      },
      'inv-1',
    );
    expect(out.channels).toEqual({ webhook: 'sent-unrecorded' });
    expect(waits).toEqual([...FINISH_BACKOFF_MS]);
    expect(warnings).toMatchObject([
      { channel: 'webhook', outcome: 'SENT', attempts: FINISH_BACKOFF_MS.length + 1 },
    ]);
    // The claim is still this invocation's, under its lease: a duplicate within it sends nothing.
    expect([...claims.items.values()]).toMatchObject([{ state: 'SENDING', owner: 'inv-1' }]);
    expect(await notifyCi({ ...event(), id: 'dup' }, p, 'inv-2')).toMatchObject({
      channels: { webhook: 'in-flight' },
    });
    expect(posts).toBe(1);
  });

  it("a duplicate delivery's skip (first reason DUPLICATE) is not sent; any other skip is", async () => {
    let posts = 0;
    const { ports: p, claims } = ports(async () => {
      posts++;
      return { status: 200, text: '' };
    });
    const skip = (code: string, workflowId: string) =>
      event({ workflowId, outcome: 'SKIPPED', reasons: [{ code, message: 'm' }] }, 'Upgrade Skipped');
    expect(await notifyCi(skip('DUPLICATE', 'wf-dup'), p, 'inv-1')).toMatchObject({ channels: {} });
    expect(claims.items.size).toBe(0);
    expect(posts).toBe(0);
    expect((await notifyCi(skip('VERSION_NOT_NEWER', 'wf-old'), p, 'inv-2')).channels).toEqual({
      webhook: 'sent',
    });
    expect(posts).toBe(1);
    expect(isDuplicateSkip({ outcome: 'SKIPPED', reasons: [{ code: 'SUPERSEDED', message: 'm' }] })).toBe(
      false,
    );
    expect(isDuplicateSkip({ outcome: 'COMPLETED', reasons: [{ code: 'DUPLICATE', message: 'm' }] })).toBe(
      false,
    );
  });
});
