import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { UsageError } from '../../cli/commands/shared';
import { up } from '../../cli/commands/up';
import { twinSecretArn } from '../../local/emulators/secrets-manager';
import { loadUsers } from '../../local/server/identity';
import { startUp } from '../../local/server/up';
import { LocalStack } from '../../local/stack';
import { feedbackKey } from '../../shared/aws/feedback-claims';
import { parseCatalog } from '../../shared/domain/catalog';
import { noticeOf, upshiftEventSchema } from '../../shared/domain/feedback';
import published from '../fixtures/events/checkout-1.1.0-development.json';

/**
 * The generic webhook through the twin: the app synthesized with feedback configured, the
 * NotifyCi function and its rule from the template, GetSecretValue against the Secrets Manager
 * emulator with the function's role, and POSTs to a real receiver on 127.0.0.1. The wall clock
 * (sped up) runs, as under `upshift up`, so EventBridge's retry back-off passes by itself.
 */

const SECRET = 'twin-webhook-key-0123456789';
const SECRET_NAME = 'upshift/ci-webhook';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  url?: string;
}

let server: Server;
let url: string;
const received: Received[] = [];
/** The statuses the receiver answers with, in turn; 200 once they run out. */
let script: number[] = [];
let stack: LocalStack | undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        url: request.url ?? '',
      });
      response.statusCode = script.shift() ?? 200;
      response.end(response.statusCode === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upshift`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(async () => {
  await stack?.close();
  stack = undefined;
  received.length = 0;
  script = [];
});

/**
 * `speed` 3600 lets EventBridge's back-off (seconds to minutes) pass in milliseconds. A delivery's
 * claim is a 90-second lease on the same clock: where real requests race, a lower speed keeps the
 * lease longer than the real time they take, as on AWS.
 */
async function open(secretArn = twinSecretArn(SECRET_NAME), speed = 3600) {
  stack = await LocalStack.start({
    catalog: parseCatalog(demoCatalog),
    wallClock: { speed },
    ciFeedback: { webhook: { url, secretArn } },
    secrets: [{ name: SECRET_NAME, value: SECRET }],
  });
  return stack;
}

/** Waits (bounded) until `done` holds; the wall clock runs meanwhile. */
async function until(done: () => boolean | Promise<boolean>, what: string, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Deliveries the notifier's rule has had (successful invocations, duplicates included). */
function notifierDeliveries(s: LocalStack): number {
  return s.events.log.filter((e) => e.rules.some((r) => r.includes('CiFeedbackOutcomesRule'))).length;
}

async function claimState(s: LocalStack, event: unknown) {
  const notice = noticeOf(upshiftEventSchema.parse(event));
  const item = await documentGet(s, feedbackKey(notice.key, 'webhook'));
  return item?.state as string | undefined;
}

async function documentGet(s: LocalStack, key: { pk: string; sk: string }) {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: s.dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  );
  try {
    const out = await db.send(
      new GetCommand({ TableName: s.model.table.name, Key: key, ConsistentRead: true }),
    );
    return out.Item;
  } finally {
    db.destroy();
  }
}

function outcomeEvent(workflowId: string, outcome = 'COMPLETED') {
  return {
    version: '0' as const,
    id: `evt-${workflowId}`,
    'detail-type': outcome === 'COMPLETED' ? 'Upgrade Completed' : 'Upgrade Rolled Back',
    source: 'upshift',
    account: '000000000000',
    time: '2026-12-02T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      schemaVersion: '1',
      workflowId,
      component: 'checkout',
      environment: 'staging',
      version: '1.2.0',
      outcome,
      reasons: [{ code: 'DEPLOYED', message: 'checkout 1.2.0 serves staging' }],
    },
  };
}

/** What a receiver does, written here with node:crypto alone (not the project's helper). */
function verify(r: Received): boolean {
  const timestamp = String(r.headers['x-upshift-timestamp']);
  const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${r.body}`).digest('hex')}`;
  return r.headers['x-upshift-signature'] === expected;
}

describe('CI feedback in the twin (generic webhook)', () => {
  it('a real upgrade ends COMPLETED and the receiver gets one signed POST with the outcome', async () => {
    // Prepare
    const s = await open();
    // Act
    const { record } = await s.run(published);
    await until(() => received.length >= 1, 'the webhook');
    await until(() => s.events.delivered >= notifierDeliveries(s), 'the rule deliveries');
    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    expect(received).toHaveLength(1);
    const [post] = received as [Received];
    expect(verify(post)).toBe(true);
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['x-upshift-event']).toBe('Upgrade Completed');
    expect(post.headers['idempotency-key']).toBe(post.headers['x-upshift-delivery']);
    const body = JSON.parse(post.body);
    expect(body).toMatchObject({
      schemaVersion: '1',
      type: 'Upgrade Completed',
      workflowId: record?.workflowId,
      component: 'checkout',
      environment: 'development',
      version: '1.1.0',
      outcome: 'COMPLETED',
      deliveryId: post.headers['x-upshift-delivery'],
    });
    expect(body.reasons.length).toBeGreaterThan(0);
    // A tampered body does not verify.
    expect(verify({ ...post, body: post.body.replace('COMPLETED', 'ROLLED_BACK') })).toBe(false);
  });

  it('the same outcome published twice (a retried Record, a duplicate delivery) is POSTed once', async () => {
    // Prepare
    const s = await open(twinSecretArn(SECRET_NAME), 60);
    s.events.duplicates = 1; // every delivery of the rule happens twice, as at-least-once allows
    const event = outcomeEvent('wf-dup-1');
    // Act
    await s.publish(event);
    await s.publish({ ...event, id: 'another-event-id' });
    await until(async () => (await claimState(s, event)) === 'SENT', 'the claim to be SENT');
    await until(() => s.events.delivered >= 4, 'the four invocations (2 events x 2 copies)');
    // Assess
    expect(received).toHaveLength(1);
    expect(verify(received[0] as Received)).toBe(true);
  });

  it('a Version Published delivered twice: one POST for the real outcome, none for the duplicate skip', async () => {
    // Prepare
    const s = await open();
    // Act: the same event (same id) reaches the state machine twice, as at-least-once allows.
    const first = await s.run(published);
    const second = await s.run(published);
    await until(() => received.length >= 1, 'the webhook');
    await until(() => s.events.delivered >= notifierDeliveries(s), 'the rule deliveries');
    // Assess
    expect(first.record?.outcome).toBe('COMPLETED');
    expect(second.record).toMatchObject({ outcome: 'SKIPPED', reasons: [{ code: 'DUPLICATE' }] });
    const outcomes = s.events.log.filter(
      (e) => e.event.source === 'upshift' && (e.event.detail as { outcome?: string }).outcome,
    );
    expect(outcomes.map((e) => (e.event.detail as { outcome: string }).outcome)).toEqual([
      'COMPLETED',
      'SKIPPED',
    ]);
    // Both reach the notifier; the skip claims nothing and sends nothing.
    expect(outcomes.every((e) => e.rules.some((r) => r.includes('CiFeedbackOutcomesRule')))).toBe(true);
    await until(async () => (await claimState(s, outcomes[0]?.event)) === 'SENT', 'the outcome SENT');
    expect(await claimState(s, outcomes[1]?.event)).toBeUndefined();
    expect(received).toHaveLength(1);
    expect(JSON.parse((received[0] as Received).body)).toMatchObject({
      outcome: 'COMPLETED',
      workflowId: first.record?.workflowId,
    });
  });

  it('retries a 500 through the rule retry policy until the receiver takes it, with the same delivery id', async () => {
    // Prepare
    const s = await open();
    script = [500, 500];
    const event = outcomeEvent('wf-retry-1', 'ROLLED_BACK');
    // Act
    await s.publish(event);
    await until(async () => (await claimState(s, event)) === 'SENT', 'the claim to be SENT');
    // Assess
    expect(received).toHaveLength(3);
    const ids = new Set(received.map((r) => r.headers['x-upshift-delivery']));
    expect(ids.size).toBe(1);
    expect(received.every(verify)).toBe(true);
    expect(JSON.parse((received[2] as Received).body)).toMatchObject({
      outcome: 'ROLLED_BACK',
      type: 'Upgrade Rolled Back',
    });
    expect([...s.events.deadLetters.values()].flat()).toHaveLength(0);
  });

  it('a 4xx is refused for good: one POST, recorded REJECTED, the event in the dead-letter queue', async () => {
    // Prepare
    const s = await open();
    script = [422];
    const event = outcomeEvent('wf-refused-1');
    // Act
    await s.publish(event);
    await until(() => [...s.events.deadLetters.values()].flat().length >= 1, 'the dead letter');
    await s.publish({ ...event, id: 'a-later-duplicate' });
    await until(() => [...s.events.deadLetters.values()].flat().length >= 2, 'the second dead letter');
    // Assess
    expect(received).toHaveLength(1);
    expect(await claimState(s, event)).toBe('REJECTED');
    const letters = [...s.events.deadLetters.values()].flat();
    expect(letters[0]?.error).toMatch(/CiDeliveryRejected|refused/);
  });

  it('a secret that does not exist fails the delivery (ResourceNotFoundException), retried, then dead-lettered', async () => {
    // Prepare: the role may read the ARN configured, but no such secret exists.
    const s = await open(twinSecretArn('upshift/not-there'));
    const event = outcomeEvent('wf-nosecret-1');
    // Act
    await s.publish(event);
    await until(() => [...s.events.deadLetters.values()].flat().length >= 1, 'the dead letter');
    // Assess: every retry asked Secrets Manager, nothing reached the receiver, the claim is free.
    const [letter] = [...s.events.deadLetters.values()].flat();
    expect(letter?.error).toMatch(/ResourceNotFoundException/);
    expect(letter?.retryAttempts).toBe(8);
    expect(received).toHaveLength(0);
    expect(await claimState(s, event)).toBe('SENDING');
  });
});

describe('upshift up --webhook-url', () => {
  it('delivers the same signed webhook from the long-lived stack', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'upshift-up-'));
    const running = await startUp({
      catalog: parseCatalog(demoCatalog),
      users: loadUsers('catalog/demo.users.json'),
      stateDir: dir,
      port: 0,
      speed: 3600,
      webhook: { url, secret: SECRET },
    });
    try {
      // Act: an outcome put on the bus through the stack's PutEvents.
      await running.stack.putEvents({
        Entries: [
          {
            EventBusName: 'upshift',
            Source: 'upshift',
            DetailType: 'Upgrade Completed',
            Detail: JSON.stringify(outcomeEvent('wf-up-1').detail),
          },
        ],
      });
      await until(() => received.length >= 1, 'the webhook');
      // Assess
      expect(verify(received[0] as Received)).toBe(true);
      expect(JSON.parse((received[0] as Received).body)).toMatchObject({
        workflowId: 'wf-up-1',
        outcome: 'COMPLETED',
      });
    } finally {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a plain-http remote URL, a missing key, and a key file that cannot be read, before starting', async () => {
    const run = (flags: Record<string, string>) =>
      up({ port: '0', ...flags }, () => undefined, Promise.resolve());
    await expect(
      run({ 'webhook-url': 'http://ci.example.com/hook', 'webhook-secret-file': 'x' }),
    ).rejects.toThrow(/--webhook-url: expected an https URL/);
    const saved = process.env.UPSHIFT_WEBHOOK_SECRET;
    delete process.env.UPSHIFT_WEBHOOK_SECRET;
    try {
      await expect(run({ 'webhook-url': url })).rejects.toThrow(/the signing key is missing/);
    } finally {
      if (saved !== undefined) process.env.UPSHIFT_WEBHOOK_SECRET = saved;
    }
    const dir = mkdtempSync(join(tmpdir(), 'upshift-key-'));
    writeFileSync(join(dir, 'present'), 'k\n');
    await expect(run({ 'webhook-url': url, 'webhook-secret-file': join(dir, 'absent') })).rejects.toThrow(
      UsageError,
    );
    await expect(run({ 'webhook-secret-file': join(dir, 'present') })).rejects.toThrow(
      /give --webhook-url too/,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("GitHub and GitLab through the twin's API destinations", () => {
  it('an outcome published twice becomes one repository dispatch and one pipeline trigger, with the connections credentials', async () => {
    // Prepare: the API base URLs point at the local receiver; the tokens are in Secrets Manager.
    const origin = new URL(url).origin;
    const s = await LocalStack.start({
      catalog: parseCatalog(demoCatalog),
      // Speed 60: the 90 s claim lease outlasts the real time of two racing invocations.
      wallClock: { speed: 60 },
      ciFeedback: {
        github: {
          owner: 'acme',
          repo: 'shop',
          mode: 'repository_dispatch',
          secretArn: twinSecretArn('upshift/github'),
          secretJsonField: 'token',
          apiUrl: `${origin}/gh`,
        },
        gitlab: {
          projectId: 42,
          mode: 'trigger',
          ref: 'release',
          baseUrl: `${origin}/gl`,
          secretArn: twinSecretArn('upshift/gitlab'),
        },
      },
      secrets: [
        { name: 'upshift/github', value: JSON.stringify({ token: 'ghp_twin' }) },
        { name: 'upshift/gitlab', value: 'glptt-twin' },
      ],
    });
    stack = s;
    const event = outcomeEvent('wf-api-1', 'ROLLED_BACK');
    // Act
    await s.publish(event);
    await s.publish({ ...event, id: 'a-duplicate' });
    await until(() => received.length >= 2, 'both requests');
    await until(() => s.events.delivered >= 4, 'two notifier invocations and two API destination calls');
    // Assess
    expect(received).toHaveLength(2);
    const github = received.find((r) => r.url?.startsWith('/gh/')) as Received;
    const gitlab = received.find((r) => r.url?.startsWith('/gl/')) as Received;
    expect(github.url).toBe('/gh/repos/acme/shop/dispatches');
    expect(github.headers.authorization).toBe('Bearer ghp_twin');
    expect(github.headers.accept).toBe('application/vnd.github+json');
    expect(github.headers['x-github-api-version']).toBe('2022-11-28');
    const notice = noticeOf(upshiftEventSchema.parse(event));
    expect(github.headers['x-upshift-delivery']).toBe(notice.deliveryId);
    expect(JSON.parse(github.body)).toEqual({
      event_type: 'upshift-rolled-back',
      client_payload: {
        deliveryId: notice.deliveryId,
        type: 'Upgrade Rolled Back',
        workflowId: 'wf-api-1',
        component: 'checkout',
        environment: 'staging',
        version: '1.2.0',
        outcome: 'ROLLED_BACK',
        reasons: event.detail.reasons,
        time: '2026-12-02T10:00:00Z',
      },
    });
    expect(gitlab.url).toBe('/gl/api/v4/projects/42/trigger/pipeline?token=glptt-twin');
    expect(JSON.parse(gitlab.body)).toMatchObject({
      ref: 'release',
      variables: {
        UPSHIFT_OUTCOME: 'ROLLED_BACK',
        UPSHIFT_DELIVERY_ID: notice.deliveryId,
        UPSHIFT_VERSION: '1.2.0',
      },
    });
  });

  it('a 5xx from GitHub is retried by the target retry policy; a 404 goes to the dead-letter queue', async () => {
    const origin = new URL(url).origin;
    const s = await LocalStack.start({
      catalog: parseCatalog(demoCatalog),
      wallClock: { speed: 3600 },
      ciFeedback: {
        github: {
          owner: 'acme',
          repo: 'shop',
          mode: 'repository_dispatch',
          secretArn: twinSecretArn('upshift/github'),
          apiUrl: `${origin}/gh`,
        },
      },
      secrets: [{ name: 'upshift/github', value: 'ghp_plain' }],
    });
    stack = s;
    script = [502, 200, 404];
    // Act: one retried into success, one refused.
    await s.publish(outcomeEvent('wf-api-2'));
    await until(() => received.length >= 2, 'the retry');
    await s.publish(outcomeEvent('wf-api-3'));
    await until(() => [...s.events.deadLetters.values()].flat().length >= 1, 'the dead letter');
    // Assess
    expect(received.map((r) => r.headers.authorization)).toEqual([
      'Bearer ghp_plain',
      'Bearer ghp_plain',
      'Bearer ghp_plain',
    ]);
    const [letter] = [...s.events.deadLetters.values()].flat();
    expect(letter?.error).toMatch(/answered 404/);
    expect(letter?.retryAttempts).toBe(0);
  });
});
