import { describe, expect, it } from 'vitest';
import { type AlarmProps, CloudWatchEmulator, type TreatMissingData } from '../../local/emulators/cloudwatch';
import type { BusEntry, EventSink, MetricQuery, MetricSource, TwinClock } from '../../local/twin/contracts';
import { FakeClock } from '../support/fake-clock';

/** A virtual clock that runs `at` callbacks in time order when advanced. */

class FakeSource implements MetricSource {
  calls = 0;
  private listeners: ((c: {
    namespace: string;
    dimensions: Record<string, string>;
    atMs: number;
  }) => void)[] = [];
  constructor(public value: (q: MetricQuery) => number | undefined) {}
  datapoint(q: MetricQuery): number | undefined {
    this.calls++;
    return this.value(q);
  }
  onChange(
    listener: (c: { namespace: string; dimensions: Record<string, string>; atMs: number }) => void,
  ): void {
    this.listeners.push(listener);
  }
  change(namespace: string, dimensions: Record<string, string>, atMs: number): void {
    for (const l of this.listeners) l({ namespace, dimensions, atMs });
  }
}

class Sink implements EventSink {
  readonly events: { bus: string; entry: BusEntry; atMs: number }[] = [];
  constructor(private clock: TwinClock) {}
  putFromService(bus: string, entry: BusEntry): void {
    this.events.push({ bus, entry, atMs: this.clock.now().getTime() });
  }
}

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const MIN = 60_000;
const DIMS = { FunctionName: 'checkout', Resource: 'checkout:live' };

const errorsAlarm = (overrides: Partial<AlarmProps> = {}): AlarmProps => ({
  AlarmName: 'checkout-prod-errors',
  AlarmDescription: 'Upshift: errors of checkout in prod above 1',
  ComparisonOperator: 'GreaterThanThreshold',
  Threshold: 1,
  EvaluationPeriods: 2,
  DatapointsToAlarm: 2,
  TreatMissingData: 'notBreaching',
  Namespace: 'AWS/Lambda',
  MetricName: 'Errors',
  Dimensions: [
    { Name: 'FunctionName', Value: 'checkout' },
    { Name: 'Resource', Value: 'checkout:live' },
  ],
  Statistic: 'Sum',
  Period: 60,
  ...overrides,
});

function setup(value: (q: MetricQuery) => number | undefined) {
  const clock = new FakeClock(T0);
  const sink = new Sink(clock);
  const source = new FakeSource(value);
  const cw = new CloudWatchEmulator({ clock, events: sink, sources: [source] });
  return { clock, sink, source, cw };
}

const caller = { roleArn: 'arn:aws:iam::000000000000:role/Deploy', name: 'Deploy' };

describe('CloudWatchEmulator', () => {
  it('fires an alarm nobody reads: ALARM on the default bus at the end of the 2nd bad period', async () => {
    // Prepare
    const bad = T0 + 5 * MIN;
    const { clock, sink, source, cw } = setup((q) => (q.startMs >= bad ? 5 : 0));
    cw.defineAlarm(errorsAlarm());
    clock.at(bad, () => source.change('AWS/Lambda', DIMS, bad));

    // Act
    await clock.advanceTo(T0 + 10 * MIN);

    // Assess
    expect(
      sink.events.map((e) => [e.bus, (e.entry.detail.state as { value: string }).value, e.atMs]),
    ).toEqual([
      ['default', 'OK', T0 + MIN],
      ['default', 'ALARM', bad + 2 * MIN],
    ]);
    const alarm = sink.events[1]?.entry;
    expect(alarm?.source).toBe('aws.cloudwatch');
    expect(alarm?.detailType).toBe('CloudWatch Alarm State Change');
    expect(alarm?.resources).toEqual([
      'arn:aws:cloudwatch:us-east-1:000000000000:alarm:checkout-prod-errors',
    ]);
    const detail = alarm?.detail as {
      alarmName: string;
      state: { value: string; reason: string; reasonData: string; timestamp: string };
      previousState: { value: string };
      configuration: { description: string; metrics: { metricStat: { metric: { name: string } } }[] };
    };
    expect(detail.alarmName).toBe('checkout-prod-errors');
    expect(detail.previousState.value).toBe('OK');
    expect(detail.state.timestamp).toBe('2026-01-05T12:07:00.000+0000');
    expect(detail.state.reason).toBe(
      'Threshold Crossed: 2 out of the last 2 datapoints [5.0 (05/01/26 12:06:00), 5.0 (05/01/26 12:05:00)] were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).',
    );
    expect(typeof detail.state.reasonData).toBe('string');
    expect(JSON.parse(detail.state.reasonData)).toMatchObject({
      version: '1.0',
      statistic: 'Sum',
      period: 60,
      recentDatapoints: [5, 5],
      threshold: 1,
    });
    expect(detail.configuration.description).toBe('Upshift: errors of checkout in prod above 1');
    expect(detail.configuration.metrics[0]?.metricStat.metric.name).toBe('Errors');
    expect(cw.alarmStates(['checkout-prod-errors', 'unknown'])).toEqual([
      { name: 'checkout-prod-errors', state: 'ALARM' },
    ]);
  });

  it('does not evaluate while idle after settling', async () => {
    // Prepare
    const { clock, source, cw } = setup(() => 0);
    cw.defineAlarm(errorsAlarm());
    await clock.advanceTo(T0 + 10 * MIN);
    const callsWhenSettled = source.calls;

    // Act
    await clock.advanceTo(T0 + 70 * MIN);

    // Assess
    expect(cw.isActive('checkout-prod-errors')).toBe(false);
    expect(source.calls).toBe(callsWhenSettled);
    expect(cw.alarmStates(['checkout-prod-errors'])).toEqual([{ name: 'checkout-prod-errors', state: 'OK' }]);
  });

  it('wakes only the alarms whose namespace and dimensions changed', async () => {
    // Prepare
    const { clock, source, cw } = setup(() => 0);
    cw.defineAlarm(errorsAlarm());
    cw.defineAlarm(
      errorsAlarm({ AlarmName: 'other', Dimensions: [{ Name: 'FunctionName', Value: 'other' }] }),
    );
    await clock.advanceTo(T0 + 10 * MIN);

    // Act
    source.change('AWS/Lambda', { Resource: 'checkout:live', FunctionName: 'checkout' }, T0 + 10 * MIN);

    // Assess
    expect(cw.isActive('checkout-prod-errors')).toBe(true);
    expect(cw.isActive('other')).toBe(false);
  });

  it('DescribeAlarms reads the state and does not evaluate', async () => {
    // Prepare
    const { clock, source, cw } = setup(() => 0);
    cw.defineAlarm(errorsAlarm());
    await clock.advanceTo(T0 + 10 * MIN);
    source.value = () => 100; // changed without telling anyone: only an evaluation would see it
    const calls = source.calls;

    // Act
    const out = await cw.handle('DescribeAlarms', { AlarmNames: ['checkout-prod-errors'] }, caller);

    // Assess
    expect(source.calls).toBe(calls);
    const alarms = out.MetricAlarms as Record<string, unknown>[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      AlarmName: 'checkout-prod-errors',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:checkout-prod-errors',
      StateValue: 'OK',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
    });
    expect(alarms[0]?.StateUpdatedTimestamp).toEqual(new Date(T0 + MIN));
    expect(typeof alarms[0]?.StateReasonData).toBe('string');
    expect(out.CompositeAlarms).toEqual([]);
  });

  it('starts in INSUFFICIENT_DATA and stays there on missing data with the default treatment', async () => {
    // Prepare
    const { clock, sink, cw } = setup(() => undefined);
    cw.defineAlarm(errorsAlarm({ TreatMissingData: undefined }));

    // Act
    await clock.advanceTo(T0 + 10 * MIN);
    const out = await cw.handle('DescribeAlarms', {}, caller);

    // Assess
    expect(sink.events).toEqual([]);
    expect((out.MetricAlarms as Record<string, unknown>[])[0]).toMatchObject({
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Unchecked: Initial alarm creation',
      TreatMissingData: 'missing',
    });
  });

  it('treats missing data as notBreaching: OK', async () => {
    // Prepare
    const { clock, sink, cw } = setup(() => undefined);
    cw.defineAlarm(errorsAlarm({ TreatMissingData: 'notBreaching' }));

    // Act
    await clock.advanceTo(T0 + 10 * MIN);

    // Assess
    expect(sink.events).toHaveLength(1);
    const state = sink.events[0]?.entry.detail.state as { value: string; reason: string };
    expect(state.value).toBe('OK');
    expect(state.reason).toBe(
      'Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [NonBreaching].',
    );
  });

  // The CloudWatch User Guide's tables ("How alarm state is evaluated when data is missing"): the
  // 5 most recent datapoints, oldest first; 0 non-breaching, X breaching, - missing. "retain" is
  // the state before, here INSUFFICIENT_DATA (a new alarm).
  const TABLES: [string, number, number, string, string, string, string, string][] = [
    ['3 of 3', 3, 3, '0 - X - X', 'OK', 'OK', 'OK', 'OK'],
    ['3 of 3', 3, 3, '0 - - - -', 'OK', 'OK', 'OK', 'OK'],
    ['3 of 3', 3, 3, '- - - - -', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
    ['3 of 3', 3, 3, '0 X X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['3 of 3', 3, 3, '- - - - X', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
    ['3 of 3', 3, 3, 'X - - - -', 'ALARM', 'retain', 'ALARM', 'OK'],
    ['2 of 3', 2, 3, '0 - X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['2 of 3', 2, 3, '0 0 X 0 X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['2 of 3', 2, 3, '0 - X - -', 'OK', 'OK', 'ALARM', 'OK'],
    ['2 of 3', 2, 3, '- - - - 0', 'OK', 'OK', 'ALARM', 'OK'],
    ['2 of 3', 2, 3, '- - - - X', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
  ];
  const TREATMENTS: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
  const cases = TABLES.flatMap(([table, m, n, points, ...states]) =>
    TREATMENTS.map((treat, i) => ({ table, m, n, points, treat, expected: states[i] as string })),
  );

  it.each(cases)(
    '$table, $points, $treat → $expected (CloudWatch User Guide)',
    async ({ m, n, points, treat, expected }) => {
      // Prepare: the alarm is created at T0 and first evaluates at T0 + 1 min, over T0-4..T0.
      const values = points.split(' ').map((p) => (p === '-' ? undefined : p === 'X' ? 5 : 0));
      const { clock, cw } = setup((q) => {
        const k = Math.round((q.startMs - (T0 - 4 * MIN)) / MIN);
        return k >= 0 && k < values.length ? values[k] : undefined;
      });
      cw.defineAlarm(errorsAlarm({ EvaluationPeriods: n, DatapointsToAlarm: m, TreatMissingData: treat }));

      // Act
      await clock.advanceTo(T0 + MIN);

      // Assess
      expect(cw.alarmStates(['checkout-prod-errors'])[0]?.state).toBe(
        expected === 'retain' ? 'INSUFFICIENT_DATA' : expected,
      );
    },
  );

  it('evaluates the metric math the stack uses', async () => {
    // Prepare
    const { clock, sink, cw } = setup((q) =>
      q.metricName === 'Errors'
        ? 5
        : q.metricName === 'Invocations'
          ? 10
          : q.stat === 'p99'
            ? 0.3
            : undefined,
    );
    const stat = (metricName: string, s: string) => ({
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: 'checkout' }],
      },
      Period: 60,
      Stat: s,
    });
    const base = errorsAlarm({ Namespace: undefined, MetricName: undefined, Dimensions: undefined });
    delete base.Statistic;
    delete base.Period;

    // Act
    cw.defineAlarm({
      ...base,
      AlarmName: 'rate',
      Threshold: 10,
      Metrics: [
        { Id: 'expr_1', Expression: '100 * errors / MAX([errors, invocations])', Label: 'error rate %' },
        { Id: 'errors', MetricStat: stat('Errors', 'Sum'), ReturnData: false },
        { Id: 'invocations', MetricStat: stat('Invocations', 'Sum'), ReturnData: false },
      ],
    });
    cw.defineAlarm({
      ...base,
      AlarmName: 'latency',
      Threshold: 250,
      Metrics: [
        { Id: 'expr_1', Expression: '1000 * latency', Label: 'p99 ms' },
        { Id: 'latency', MetricStat: stat('Duration', 'p99'), ReturnData: false },
      ],
    });
    await clock.advanceTo(T0 + 5 * MIN);

    // Assess
    expect(cw.alarmStates(['rate', 'latency'])).toEqual([
      { name: 'rate', state: 'ALARM' },
      { name: 'latency', state: 'ALARM' },
    ]);
    const rate = sink.events.find((e) => e.entry.detail.alarmName === 'rate')?.entry.detail ?? {};
    const reasonData = JSON.parse((rate.state as { reasonData: string }).reasonData);
    expect(reasonData.recentDatapoints).toEqual([50, 50]);
    expect(reasonData.statistic).toBeUndefined();
    const metrics = (rate.configuration as { metrics: Record<string, unknown>[] }).metrics;
    expect(metrics[0]).toEqual({
      id: 'expr_1',
      expression: '100 * errors / MAX([errors, invocations])',
      label: 'error rate %',
      returnData: true,
    });
    expect(() =>
      cw.defineAlarm({
        ...base,
        AlarmName: 'bad',
        Metrics: [
          { Id: 'e', Expression: 'SUM(METRICS())' },
          { Id: 'm', MetricStat: stat('Errors', 'Sum'), ReturnData: false },
        ],
      }),
    ).toThrow(/Unsupported metric math expression "SUM\(METRICS\(\)\)"/);
    expect(() =>
      cw.defineAlarm({
        ...base,
        AlarmName: 'bad2',
        Metrics: [
          { Id: 'e', Expression: 'm ^ 2' },
          { Id: 'm', MetricStat: stat('Errors', 'Sum'), ReturnData: false },
        ],
      }),
    ).toThrow(/unexpected "\^"/);
    expect(() =>
      cw.defineAlarm({
        ...base,
        AlarmName: 'bad3',
        Metrics: [
          { Id: 'e', Expression: 'MAX(m)' },
          { Id: 'm', MetricStat: stat('Errors', 'Sum'), ReturnData: false },
        ],
      }),
    ).toThrow(/only over an array/);
  });

  it("evaluates an EC2 alarm's MAX over its Auto Scaling groups' failed status checks", async () => {
    // Prepare: the synthesized EC2 stand-in (infra/component-stacks.ts), one group failing.
    const failing = new Set(['batch-green']);
    const { clock, cw } = setup((q) =>
      q.namespace === 'AWS/EC2' && q.metricName === 'StatusCheckFailed' && q.stat === 'Sum'
        ? failing.has(q.dimensions.AutoScalingGroupName ?? '')
          ? 1
          : 0
        : undefined,
    );
    const group = (name: string) => ({
      Metric: {
        Namespace: 'AWS/EC2',
        MetricName: 'StatusCheckFailed',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: name }],
      },
      Period: 60,
      Stat: 'Sum',
    });
    const base = errorsAlarm({ Namespace: undefined, MetricName: undefined, Dimensions: undefined });
    delete base.Statistic;
    delete base.Period;
    const alarm = (name: string, groups: string[]) => ({
      ...base,
      AlarmName: name,
      Threshold: 0,
      Metrics: [
        { Id: 'expr_1', Expression: `MAX([${groups.map((_, i) => `asg${i}`).join(', ')}])` },
        ...groups.map((g, i) => ({ Id: `asg${i}`, MetricStat: group(g), ReturnData: false })),
      ],
    });

    // Act
    cw.defineAlarm(alarm('batch', ['batch-blue', 'batch-green']));
    cw.defineAlarm(alarm('web', ['web-blue', 'web-green']));
    await clock.advanceTo(T0 + 5 * MIN);

    // Assess: the failing group's alarm fires; the healthy groups' does not.
    expect(cw.alarmStates(['batch', 'web'])).toEqual([
      { name: 'batch', state: 'ALARM' },
      { name: 'web', state: 'OK' },
    ]);
  });

  it('authorizes DescribeAlarms on each named alarm, and on * without names', () => {
    // Prepare
    const { cw } = setup(() => 0);

    // Act
    const named = cw.authorizations('DescribeAlarms', { AlarmNames: ['a', 'b', 'a'] });
    const all = cw.authorizations('DescribeAlarms', { AlarmNamePrefix: 'checkout-' });
    const set = cw.authorizations('SetAlarmState', { AlarmName: 'a', StateValue: 'ALARM', StateReason: 'x' });

    // Assess
    expect(named).toEqual([
      { action: 'cloudwatch:DescribeAlarms', resource: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:a' },
      { action: 'cloudwatch:DescribeAlarms', resource: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:b' },
    ]);
    expect(all).toEqual([{ action: 'cloudwatch:DescribeAlarms', resource: '*' }]);
    expect(set).toEqual([
      { action: 'cloudwatch:SetAlarmState', resource: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:a' },
    ]);
  });

  it('refuses more than 100 AlarmNames and pages with MaxRecords/NextToken', async () => {
    // Prepare
    const { cw } = setup(() => 0);
    for (const name of ['c', 'a', 'b']) cw.defineAlarm(errorsAlarm({ AlarmName: name }));
    const names = Array.from({ length: 101 }, (_, i) => `alarm-${i}`);

    // Act
    const tooMany = cw.handle('DescribeAlarms', { AlarmNames: names }, caller);
    const page1 = await cw.handle('DescribeAlarms', { MaxRecords: 2 }, caller);
    const page2 = await cw.handle('DescribeAlarms', { MaxRecords: 2, NextToken: page1.NextToken }, caller);

    // Assess
    await expect(tooMany).rejects.toMatchObject({ name: 'ValidationError', $fault: 'client' });
    expect((page1.MetricAlarms as { AlarmName: string }[]).map((a) => a.AlarmName)).toEqual(['a', 'b']);
    expect((page2.MetricAlarms as { AlarmName: string }[]).map((a) => a.AlarmName)).toEqual(['c']);
    expect(page2.NextToken).toBeUndefined();
    await expect(cw.handle('DescribeAlarms', { NextToken: 'garbage' }, caller)).rejects.toMatchObject({
      name: 'InvalidNextToken',
    });
  });

  it('SetAlarmState holds until the next evaluation and publishes both changes', async () => {
    // Prepare
    const { clock, sink, cw } = setup(() => 0);
    const seen: string[] = [];
    cw.onTransition((t) => seen.push(`${t.from}->${t.to}`));
    cw.defineAlarm(errorsAlarm());
    await clock.advanceTo(T0 + 20 * MIN + 30_000);

    // Act
    await cw.handle(
      'SetAlarmState',
      { AlarmName: 'checkout-prod-errors', StateValue: 'ALARM', StateReason: 'testing' },
      caller,
    );
    const during = cw.alarmStates(['checkout-prod-errors'])[0]?.state;
    await clock.advanceTo(T0 + 30 * MIN);

    // Assess
    expect(during).toBe('ALARM');
    expect(seen).toEqual(['INSUFFICIENT_DATA->OK', 'OK->ALARM', 'ALARM->OK']);
    expect(sink.events.map((e) => e.atMs)).toEqual([T0 + MIN, T0 + 20 * MIN + 30_000, T0 + 21 * MIN]);
    expect(cw.isActive('checkout-prod-errors')).toBe(false);
    await expect(
      cw.handle('SetAlarmState', { AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' }, caller),
    ).rejects.toMatchObject({ name: 'ResourceNotFound' });
  });

  it('snapshots and restores alarm states as plain JSON', async () => {
    // Prepare
    const first = setup(() => 5);
    first.cw.defineAlarm(errorsAlarm());
    await first.clock.advanceTo(T0 + 5 * MIN);
    const saved = JSON.parse(JSON.stringify(first.cw.snapshot()));
    const second = setup(() => 5);

    // Act
    second.cw.restore(saved);
    second.cw.defineAlarm(errorsAlarm());

    // Assess
    expect(second.cw.alarmStates(['checkout-prod-errors'])).toEqual([
      { name: 'checkout-prod-errors', state: 'ALARM' },
    ]);
  });
});
