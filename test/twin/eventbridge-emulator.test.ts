import { describe, expect, it } from 'vitest';
import {
  type BusEvent,
  EventBridgeEmulator,
  putEventsEntrySize,
  type RuleSpec,
  type RuleTarget,
  targetPayload,
} from '../../local/emulators/eventbridge';
import { FakeClock } from '../support/fake-clock';

/** A virtual clock that runs `at` callbacks in time order when advanced. */

/** mulberry32: a small seeded generator. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const caller = { roleArn: 'arn:aws:iam::000000000000:role/Publisher', name: 'Publisher' };
const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:upshift-dlq';

interface Delivered {
  target: string;
  rule: string;
  event: BusEvent;
  atMs: number;
}

function setup(
  options: { fail?: (attempt: number) => Error | undefined; duplicates?: number; reorderMs?: number } = {},
) {
  const clock = new FakeClock(T0);
  const delivered: Delivered[] = [];
  let attempts = 0;
  const eb = new EventBridgeEmulator({
    clock,
    random: seeded(42),
    ...(options.duplicates !== undefined ? { duplicates: options.duplicates } : {}),
    ...(options.reorderMs !== undefined ? { reorderMs: options.reorderMs } : {}),
    deliver: async (target, event, rule) => {
      attempts++;
      const error = options.fail?.(attempts);
      delivered.push({ target: target.id, rule: rule.name, event, atMs: clock.now().getTime() });
      if (error) throw error;
    },
  });
  eb.defineBus('upshift');
  return { clock, eb, delivered };
}

const target = (overrides: Partial<RuleTarget> = {}): RuleTarget => ({
  id: 'Target0',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:Intake',
  ...overrides,
});

const rule = (overrides: Partial<RuleSpec> = {}): RuleSpec => ({
  name: 'IntakeRule',
  busName: 'upshift',
  eventPattern: { source: ['upshift.ci'], 'detail-type': ['Version Published'] },
  targets: [target()],
  ...overrides,
});

const entry = (overrides: Record<string, unknown> = {}) => ({
  EventBusName: 'upshift',
  Source: 'upshift.ci',
  DetailType: 'Version Published',
  Detail: JSON.stringify({ component: 'checkout', version: '1.2.3' }),
  ...overrides,
});

describe('EventBridgeEmulator', () => {
  it('refuses PutEvents with 11 entries as a whole', async () => {
    // Prepare
    const { eb } = setup();
    const entries = Array.from({ length: 11 }, () => entry());

    // Act
    const call = eb.handle('PutEvents', { Entries: entries }, caller);

    // Assess
    await expect(call).rejects.toMatchObject({
      name: 'ValidationException',
      $fault: 'client',
      message: expect.stringContaining(
        "at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
      ),
    });
    expect(eb.log).toEqual([]);
  });

  it('fails only the entry with a bad Detail', async () => {
    // Prepare
    const { clock, eb, delivered } = setup();
    eb.defineRule(rule());

    // Act
    const out = await eb.handle(
      'PutEvents',
      {
        Entries: [
          entry(),
          entry({ Detail: 'not json' }),
          entry({ Detail: '[1, 2]' }),
          entry({ Detail: undefined }),
          entry({ Source: undefined }),
          entry(),
        ],
      },
      caller,
    );
    await clock.advanceTo(T0 + 1000);

    // Assess
    expect(out.FailedEntryCount).toBe(4);
    const results = out.Entries as Record<string, string>[];
    expect(results[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(results[2]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(results[3]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.',
    });
    expect(results[4]?.ErrorCode).toBe('InvalidArgument');
    expect(results[5]?.EventId).toBeDefined();
    expect(delivered.map((d) => d.event.id)).toEqual([results[0]?.EventId, results[5]?.EventId]);
    expect(delivered[0]?.event).toMatchObject({
      version: '0',
      'detail-type': 'Version Published',
      source: 'upshift.ci',
      account: '000000000000',
      region: 'us-east-1',
      time: '2026-01-05T12:00:00Z',
      resources: [],
      detail: { component: 'checkout', version: '1.2.3' },
    });
  });

  it('refuses a request over 256 KB, sized as AWS documents it', async () => {
    // Prepare
    const { eb } = setup();
    const big = JSON.stringify({ blob: 'x'.repeat(130 * 1024) });

    // Act
    const call = eb.handle(
      'PutEvents',
      { Entries: [entry({ Detail: big }), entry({ Detail: big })] },
      caller,
    );
    const oneFits = await eb.handle('PutEvents', { Entries: [entry({ Detail: big })] }, caller);

    // Assess
    await expect(call).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
    expect(oneFits.FailedEntryCount).toBe(0);
    expect(
      putEventsEntrySize({
        Time: new Date(),
        Source: 'a',
        DetailType: 'bé',
        Detail: '{}',
        Resources: ['r1', 'r2'],
      }),
    ).toBe(14 + 1 + 3 + 2 + 4);
  });

  it('keeps buses apart: a rule on the upshift bus never sees the default bus', async () => {
    // Prepare
    const { clock, eb, delivered } = setup();
    eb.defineRule(rule());

    // Act
    await eb.handle('PutEvents', { Entries: [entry({ EventBusName: undefined })] }, caller);
    await eb.handle('PutEvents', { Entries: [entry({ EventBusName: 'default' })] }, caller);
    eb.putFromService('default', {
      source: 'upshift.ci',
      detailType: 'Version Published',
      detail: { component: 'checkout' },
    });
    await clock.advanceTo(T0 + 1000);
    const beforeUpshift = delivered.length;
    await eb.handle(
      'PutEvents',
      { Entries: [entry({ EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/upshift' })] },
      caller,
    );
    await clock.advanceTo(T0 + 2000);

    // Assess
    expect(beforeUpshift).toBe(0);
    expect(delivered).toHaveLength(1);
    expect(eb.log.map((l) => [l.bus, l.rules])).toEqual([
      ['default', []],
      ['default', []],
      ['default', []],
      ['upshift', ['IntakeRule']],
    ]);
  });

  it('accepts an entry for a bus that does not exist and routes it nowhere, as AWS does', async () => {
    // Prepare
    const { eb } = setup();

    // Act
    const out = await eb.handle('PutEvents', { Entries: [entry({ EventBusName: 'no-such-bus' })] }, caller);

    // Assess
    expect(out.FailedEntryCount).toBe(0);
    expect(eb.unroutable).toBe(1);
    expect(eb.log).toEqual([]);
  });

  it('authorizes events:PutEvents on each bus ARN with events:source and events:detail-type', () => {
    // Prepare
    const { eb } = setup();

    // Act
    const requests = eb.authorizations('PutEvents', {
      Entries: [entry(), entry(), entry({ EventBusName: undefined, Source: 'other' })],
    });

    // Assess
    expect(requests).toEqual([
      {
        action: 'events:PutEvents',
        resource: 'arn:aws:events:us-east-1:000000000000:event-bus/upshift',
        context: { 'events:source': 'upshift.ci', 'events:detail-type': 'Version Published' },
      },
      {
        action: 'events:PutEvents',
        resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default',
        context: { 'events:source': 'other', 'events:detail-type': 'Version Published' },
      },
    ]);
  });

  it('retries with backoff on the virtual clock, then puts the event in the dead-letter queue', async () => {
    // Prepare
    const { clock, eb, delivered } = setup({ fail: () => new Error('target unavailable') });
    eb.defineRule(
      rule({ targets: [target({ retryPolicy: { maximumRetryAttempts: 3 }, deadLetterArn: QUEUE })] }),
    );

    // Act
    await eb.handle('PutEvents', { Entries: [entry()] }, caller);
    await clock.advanceTo(T0 + 3_600_000);

    // Assess
    expect(delivered).toHaveLength(4);
    const times = delivered.map((d) => d.atMs);
    for (let i = 1; i < times.length; i++) {
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThan(0);
    }
    const letters = eb.deadLetters.get(QUEUE) ?? [];
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      error: 'target unavailable',
      rule: 'IntakeRule',
      target: 'Target0',
      ruleArn: 'arn:aws:events:us-east-1:000000000000:rule/upshift/IntakeRule',
      retryAttempts: 3,
    });
    expect(letters[0]?.event.id).toBe(delivered[0]?.event.id);
    expect(JSON.parse(JSON.stringify(eb.snapshot())).deadLetters[0][0]).toBe(QUEUE);
  });

  it('stops retrying at maximumEventAgeInSeconds, does not retry a permission error, drops without a DLQ', async () => {
    // Prepare
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    const aged = setup({ fail: () => new Error('down') });
    aged.eb.defineRule(
      rule({ targets: [target({ retryPolicy: { maximumEventAgeInSeconds: 60 }, deadLetterArn: QUEUE })] }),
    );
    const noRetry = setup({ fail: () => denied });
    noRetry.eb.defineRule(rule({ targets: [target({ deadLetterArn: QUEUE })] }));
    const noDlq = setup({ fail: () => new Error('down') });
    noDlq.eb.defineRule(rule({ targets: [target({ retryPolicy: { maximumRetryAttempts: 0 } })] }));

    // Act
    for (const s of [aged, noRetry, noDlq]) {
      await s.eb.handle('PutEvents', { Entries: [entry()] }, caller);
      await s.clock.advanceTo(T0 + 3_600_000);
    }

    // Assess
    expect(aged.eb.deadLetters.get(QUEUE)).toHaveLength(1);
    expect(aged.delivered.length).toBeGreaterThan(1);
    expect(Math.max(...aged.delivered.map((d) => d.atMs)) - T0).toBeLessThanOrEqual(60_000);
    expect(noRetry.delivered).toHaveLength(1);
    expect(noRetry.eb.deadLetters.get(QUEUE)?.[0]?.retryAttempts).toBe(0);
    expect(noDlq.delivered).toHaveLength(1);
    expect(noDlq.eb.dropped).toBe(1);
  });

  it('delivers after a failed attempt without a dead letter', async () => {
    // Prepare
    const { clock, eb, delivered } = setup({ fail: (n) => (n === 1 ? new Error('blip') : undefined) });
    eb.defineRule(rule({ targets: [target({ deadLetterArn: QUEUE })] }));

    // Act
    await eb.handle('PutEvents', { Entries: [entry()] }, caller);
    await clock.advanceTo(T0 + 60_000);

    // Assess
    expect(delivered).toHaveLength(2);
    expect(eb.delivered).toBe(1);
    expect(eb.deadLetters.size).toBe(0);
  });

  it('delivers duplicates twice when configured, and reorders within the window', async () => {
    // Prepare
    const dup = setup({ duplicates: 1 });
    dup.eb.defineRule(rule());
    const re = setup({ reorderMs: 5_000 });
    re.eb.defineRule(rule());
    const entries = Array.from({ length: 10 }, (_, i) => entry({ Detail: JSON.stringify({ i }) }));

    // Act
    const out = await dup.eb.handle('PutEvents', { Entries: [entry()] }, caller);
    await dup.clock.advanceTo(T0 + 1000);
    await re.eb.handle('PutEvents', { Entries: entries }, caller);
    await re.clock.advanceTo(T0 + 10_000);

    // Assess
    const id = (out.Entries as { EventId: string }[])[0]?.EventId;
    expect(dup.delivered.map((d) => d.event.id)).toEqual([id, id]);
    const order = re.delivered.map((d) => d.event.detail.i);
    expect([...order].sort((a, b) => Number(a) - Number(b))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(order).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.max(...re.delivered.map((d) => d.atMs))).toBeLessThan(T0 + 5_000);
  });

  it('does not deliver to a DISABLED rule', async () => {
    // Prepare
    const { clock, eb, delivered } = setup();
    eb.defineRule(rule({ state: 'DISABLED' }));

    // Act
    await eb.handle('PutEvents', { Entries: [entry()] }, caller);
    await clock.advanceTo(T0 + 1000);

    // Assess
    expect(delivered).toEqual([]);
  });

  it('fires scheduled rules only when the stack says so', async () => {
    // Prepare
    const { clock, eb, delivered } = setup();
    eb.defineRule({
      name: 'Sweep',
      busName: 'default',
      scheduleExpression: 'rate(5 minutes)',
      targets: [target()],
    });
    eb.defineRule({
      name: 'Noon',
      busName: 'default',
      scheduleExpression: 'cron(0 12 ? * MON-FRI *)',
      targets: [target()],
    });

    // Act
    const first = eb.nextScheduledFire('Sweep');
    await clock.advanceTo(T0 + 5 * 60_000);
    const fired = eb.fireSchedule('Sweep');
    await clock.advanceTo(T0 + 5 * 60_000 + 1);
    const second = eb.nextScheduledFire('Sweep');
    const noon = eb.nextScheduledFire('Noon');

    // Assess
    expect(first).toEqual(new Date(T0 + 5 * 60_000));
    expect(second).toEqual(new Date(T0 + 10 * 60_000));
    // 2026-01-05 is a Monday; 12:00 has passed, so the next is Tuesday noon.
    expect(noon).toEqual(new Date(Date.UTC(2026, 0, 6, 12, 0, 0)));
    expect(fired).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/Sweep'],
      detail: {},
    });
    expect(delivered.map((d) => d.rule)).toEqual(['Sweep']);
    expect(() =>
      eb.defineRule({ name: 'X', busName: 'default', scheduleExpression: 'rate(1 minutes)', targets: [] }),
    ).toThrow(/invalid schedule/);
    expect(() =>
      eb.defineRule({ name: 'Y', busName: 'upshift', scheduleExpression: 'rate(1 minute)', targets: [] }),
    ).toThrow(/default event bus/);
  });

  it('gives a target its Input or InputPath', () => {
    // Prepare
    const event = {
      version: '0',
      id: 'e',
      'detail-type': 'd',
      source: 's',
      account: '000000000000',
      time: '2026-01-05T12:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: { a: { b: 1 } },
    } as BusEvent;

    // Act
    const constant = targetPayload(target({ input: '{"k":true}' }), event);
    const part = targetPayload(target({ inputPath: '$.detail.a' }), event);
    const whole = targetPayload(target(), event);

    // Assess
    expect(constant).toEqual({ k: true });
    expect(part).toEqual({ b: 1 });
    expect(whole).toBe(event);
  });
});
