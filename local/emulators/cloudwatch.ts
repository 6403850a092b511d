import { randomUUID } from 'node:crypto';
import {
  CloudWatchServiceException,
  InvalidFormatFault,
  InvalidNextToken,
  InvalidParameterCombinationException,
  ResourceNotFound,
} from '@aws-sdk/client-cloudwatch';
import {
  type AlarmStateReader,
  type AuthorizationRequest,
  type Caller,
  type EventSink,
  type MetricQuery,
  type MetricSource,
  type ServiceEmulator,
  serviceError,
  type TwinClock,
  twinArn,
} from '../twin/contracts';

/**
 * The CloudWatch alarms of the twin: metric alarms defined from the synthesized template
 * (AWS::CloudWatch::Alarm), evaluated on their own period on the virtual clock whether or not
 * anyone reads them, publishing `CloudWatch Alarm State Change` to the default bus, and answering
 * DescribeAlarms and SetAlarmState with the SDK's shapes.
 *
 * Sources of truth (AWS documentation, CloudWatch User Guide, "Using Amazon CloudWatch alarms":
 * "Evaluating an alarm", "Configuring how CloudWatch alarms treat missing data" and "How alarm
 * state is evaluated when data is missing"):
 * - A new alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation").
 * - DatapointsToAlarm (M) of the last EvaluationPeriods (N) breaching → ALARM, else OK.
 * - CloudWatch retrieves more datapoints than N (the evaluation range; the guide's examples
 *   retrieve 5 for N = 3, which this emulator generalizes to N + 2). If at least N of them exist,
 *   the most recent N existing ones decide and TreatMissingData is not used. Otherwise missing
 *   ones are filled per TreatMissingData, as few as possible, with the rules that reproduce every
 *   row of the guide's two tables (see `decide`).
 * - SetAlarmState holds only "until the next alarm comparison occurs".
 */

export type ComparisonOperator =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmDimension {
  Name: string;
  Value: string;
}

export interface AlarmMetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions?: AlarmDimension[] };
  Period: number | string;
  Stat: string;
  Unit?: string;
}

/** One entry of an alarm's `Metrics` (a MetricDataQuery). */
export interface AlarmMetricDataQuery {
  Id: string;
  Expression?: string;
  Label?: string;
  ReturnData?: boolean;
  Period?: number | string;
  MetricStat?: AlarmMetricStat;
}

/** The resolved properties of an AWS::CloudWatch::Alarm. */
export interface AlarmProps {
  AlarmName: string;
  AlarmDescription?: string;
  ComparisonOperator: ComparisonOperator;
  Threshold: number | string;
  EvaluationPeriods: number | string;
  DatapointsToAlarm?: number | string;
  TreatMissingData?: TreatMissingData;
  ActionsEnabled?: boolean;
  AlarmActions?: string[];
  OKActions?: string[];
  InsufficientDataActions?: string[];
  // Single metric
  Namespace?: string;
  MetricName?: string;
  Dimensions?: AlarmDimension[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number | string;
  Unit?: string;
  // Metric math
  Metrics?: AlarmMetricDataQuery[];
}

/** A state change, for the demo timeline. */
export interface AlarmTransition {
  name: string;
  from: AlarmStateValue;
  to: AlarmStateValue;
  /** ISO time of the change (virtual). */
  at: string;
  reason: string;
}

/** What `snapshot()` returns and `restore()` takes: each alarm's state, as plain JSON. */
export interface CloudWatchSnapshot {
  alarms: {
    name: string;
    state: AlarmStateValue;
    reason: string;
    reasonData?: string;
    updatedMs: number;
    transitionedMs: number;
  }[];
}

const ALARM_ARN = (name: string) => twinArn('cloudwatch', `alarm:${name}`);
const DEFAULT_MAX_RECORDS = 50;
const MAX_ALARM_NAMES = 100;
const INITIAL_REASON = 'Unchecked: Initial alarm creation';

// ---------------------------------------------------------------------------------------------
// Metric math: a small, safe evaluator (no eval). Numbers, ids, + - * /, parentheses, unary minus,
// MAX([...]) and MIN([...]) over series. A missing operand makes the result missing; MAX/MIN skip
// missing members; division by zero gives no datapoint.
// ---------------------------------------------------------------------------------------------

type MathNode =
  | { kind: 'num'; value: number }
  | { kind: 'id'; id: string }
  | { kind: 'neg'; arg: MathNode }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: MathNode; right: MathNode }
  | { kind: 'fn'; fn: 'MAX' | 'MIN'; args: MathNode[] };

export class UnsupportedMetricMath extends Error {
  constructor(expression: string, detail: string) {
    super(`Unsupported metric math expression "${expression}": ${detail}`);
    this.name = 'UnsupportedMetricMath';
  }
}

type Token =
  | { t: 'num'; v: number }
  | { t: 'id'; v: string }
  | { t: 'fn'; v: string }
  | { t: 'p'; v: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(expression.slice(i));
    if (number) {
      tokens.push({ t: 'num', v: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i));
    if (word) {
      const w = word[0];
      // Metric ids start with a lower-case letter; functions are upper case.
      if (/^[a-z]/.test(w)) tokens.push({ t: 'id', v: w });
      else if (w === 'MAX' || w === 'MIN') tokens.push({ t: 'fn', v: w });
      else throw new UnsupportedMetricMath(expression, `function or name "${w}" is not supported`);
      i += w.length;
      continue;
    }
    if ('+-*/()[],'.includes(c)) {
      tokens.push({ t: 'p', v: c });
      i++;
      continue;
    }
    throw new UnsupportedMetricMath(expression, `unexpected "${c}" at ${i}`);
  }
  return tokens;
}

export function parseMetricMath(expression: string): MathNode {
  const tokens = tokenize(expression);
  let pos = 0;
  const peek = () => tokens[pos];
  const isP = (v: string) => {
    const tok = peek();
    return tok?.t === 'p' && tok.v === v;
  };
  const expect = (v: string) => {
    if (!isP(v)) throw new UnsupportedMetricMath(expression, `expected "${v}" at token ${pos}`);
    pos++;
  };
  const parseExpr = (): MathNode => {
    let left = parseTerm();
    while (isP('+') || isP('-')) {
      const op = (tokens[pos++] as { v: '+' | '-' }).v;
      left = { kind: 'bin', op, left, right: parseTerm() };
    }
    return left;
  };
  const parseTerm = (): MathNode => {
    let left = parseUnary();
    while (isP('*') || isP('/')) {
      const op = (tokens[pos++] as { v: '*' | '/' }).v;
      left = { kind: 'bin', op, left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): MathNode => {
    if (isP('-')) {
      pos++;
      return { kind: 'neg', arg: parseUnary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): MathNode => {
    const tok = peek();
    if (!tok) throw new UnsupportedMetricMath(expression, 'unexpected end');
    if (tok.t === 'num') {
      pos++;
      return { kind: 'num', value: tok.v };
    }
    if (tok.t === 'id') {
      pos++;
      return { kind: 'id', id: tok.v };
    }
    if (tok.t === 'fn') {
      pos++;
      expect('(');
      if (!isP('[')) {
        throw new UnsupportedMetricMath(
          expression,
          `${tok.v} is supported only over an array: ${tok.v}([a, b])`,
        );
      }
      pos++;
      const args = [parseExpr()];
      while (isP(',')) {
        pos++;
        args.push(parseExpr());
      }
      expect(']');
      expect(')');
      return { kind: 'fn', fn: tok.v as 'MAX' | 'MIN', args };
    }
    if (isP('(')) {
      pos++;
      const inner = parseExpr();
      expect(')');
      return inner;
    }
    throw new UnsupportedMetricMath(expression, `unexpected "${tok.v}" at token ${pos}`);
  };
  const node = parseExpr();
  if (pos !== tokens.length)
    throw new UnsupportedMetricMath(expression, `unexpected trailing input at token ${pos}`);
  return node;
}

function mathIds(node: MathNode, into: Set<string> = new Set()): Set<string> {
  switch (node.kind) {
    case 'id':
      into.add(node.id);
      break;
    case 'neg':
      mathIds(node.arg, into);
      break;
    case 'bin':
      mathIds(node.left, into);
      mathIds(node.right, into);
      break;
    case 'fn':
      for (const a of node.args) mathIds(a, into);
      break;
  }
  return into;
}

export function evaluateMetricMath(
  node: MathNode,
  value: (id: string) => number | undefined,
): number | undefined {
  switch (node.kind) {
    case 'num':
      return node.value;
    case 'id':
      return value(node.id);
    case 'neg': {
      const v = evaluateMetricMath(node.arg, value);
      return v === undefined ? undefined : -v;
    }
    case 'bin': {
      const l = evaluateMetricMath(node.left, value);
      const r = evaluateMetricMath(node.right, value);
      if (l === undefined || r === undefined) return undefined;
      if (node.op === '+') return l + r;
      if (node.op === '-') return l - r;
      if (node.op === '*') return l * r;
      return r === 0 ? undefined : l / r;
    }
    case 'fn': {
      const vs = node.args
        .map((a) => evaluateMetricMath(a, value))
        .filter((v): v is number => v !== undefined);
      if (vs.length === 0) return undefined;
      return node.fn === 'MAX' ? Math.max(...vs) : Math.min(...vs);
    }
  }
}

// ---------------------------------------------------------------------------------------------

interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  stat: string;
}

interface Alarm {
  props: AlarmProps;
  name: string;
  arn: string;
  periodMs: number;
  periodSeconds: number;
  n: number;
  m: number;
  /** Datapoints retrieved per evaluation (the evaluation range). */
  range: number;
  treat: TreatMissingData;
  threshold: number;
  comparison: ComparisonOperator;
  /** Keys of the (namespace, dimension set) index this alarm is under. */
  keys: string[];
  /** The alarm's datapoint for the period starting at `startMs`, or undefined when missing. */
  compute: (startMs: number) => number | undefined;
  /** The statistic named in reasonData (single-metric alarms only). */
  statistic?: string;
  /** `configuration.metrics` of the state-change event. */
  eventMetrics: Record<string, unknown>[];
  state: AlarmStateValue;
  reason: string;
  reasonData?: string;
  updatedMs: number;
  transitionedMs: number;
  configUpdatedMs: number;
  /** Period start → datapoint (null: missing). Only the evaluation range is kept. */
  datapoints: Map<number, number | null>;
  /** Last change that touched this alarm's metrics (virtual ms). */
  lastChangeMs: number;
  /** Evaluations done on periods that start at or after `lastChangeMs`. */
  stablePeriods: number;
  /** The period boundary this alarm is scheduled to evaluate at, while active. */
  scheduledAt?: number;
}

/** (namespace, dimension set) → index key; dimension order does not matter. */
export function metricKey(namespace: string, dimensions: Record<string, string>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => [k, dimensions[k]]);
  return JSON.stringify([namespace, dims]);
}

const toNumber = (v: number | string | undefined, what: string): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  if (n === undefined || !Number.isFinite(n)) throw new Error(`defineAlarm: ${what} must be a number`);
  return n;
};

const dimsOf = (dims: AlarmDimension[] | undefined): Record<string, string> =>
  Object.fromEntries((dims ?? []).map((d) => [d.Name, d.Value]));

/** CloudWatch writes timestamps with a `+0000` offset (2019-10-02T17:04:40.989+0000). */
const cwTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

/** `02/10/19 16:59:00`, as in CloudWatch's reason text (UTC). */
function reasonTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(
    d.getUTCMinutes(),
  )}:${p(d.getUTCSeconds())}`;
}

/** Numbers as CloudWatch's reasons print them (Java doubles: `50.0`, `99.50160229693434`). */
const javaDouble = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(v));

const COMPARISON_TEXT: Record<ComparisonOperator, string> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export interface CloudWatchEmulatorOptions {
  clock: TwinClock;
  events: EventSink;
  sources: MetricSource[];
}

/**
 * Evaluation schedule, and why it is faithful. On AWS every alarm evaluates at every period.
 * Here an alarm is *active* (scheduled with clock.at at each of its period boundaries) from a
 * change that touches one of its metrics (a source's onChange for its namespace and dimension
 * set, its definition, SetAlarmState) until it has evaluated `range` (≥ EvaluationPeriods)
 * consecutive periods that all start after the last change; then it sleeps until the next
 * change. The sources are stationary (a period with the same routing gives the same datapoint),
 * so after that every datapoint in the evaluation range is the same as the next one would be, the
 * evaluation is a function of identical inputs (and of the state, where `ignore` keeps it), and
 * evaluating again could not change the state: skipping those evaluations changes nothing
 * observable. The cost then follows the changes, not the number of idle alarms, and reading an
 * alarm (DescribeAlarms) never evaluates it.
 */
export class CloudWatchEmulator implements ServiceEmulator, AlarmStateReader {
  readonly prefix = 'cloudwatch' as const;
  readonly transitions: AlarmTransition[] = [];
  private readonly alarms = new Map<string, Alarm>();
  private readonly index = new Map<string, Set<Alarm>>();
  private readonly listeners: ((t: AlarmTransition) => void)[] = [];
  private readonly restored = new Map<string, CloudWatchSnapshot['alarms'][number]>();
  private readonly clock: TwinClock;
  private readonly events: EventSink;
  private readonly sources: MetricSource[];

  constructor(options: CloudWatchEmulatorOptions) {
    this.clock = options.clock;
    this.events = options.events;
    this.sources = options.sources;
    for (const source of this.sources) {
      source.onChange((change) => this.onMetricChange(change.namespace, change.dimensions, change.atMs));
    }
  }

  // ----- definition ---------------------------------------------------------------------------

  /** Creates (or replaces) an alarm from its template properties; it evaluates until settled. */
  defineAlarm(props: AlarmProps): void {
    const alarm = this.build(props);
    const previous = this.alarms.get(alarm.name);
    if (previous) this.unindex(previous);
    const saved = this.restored.get(alarm.name);
    if (saved) {
      this.applySaved(alarm, saved);
      this.restored.delete(alarm.name);
    } else if (previous) {
      alarm.state = previous.state;
      alarm.reason = previous.reason;
      alarm.reasonData = previous.reasonData;
      alarm.updatedMs = previous.updatedMs;
      alarm.transitionedMs = previous.transitionedMs;
    }
    this.alarms.set(alarm.name, alarm);
    for (const key of alarm.keys) {
      let set = this.index.get(key);
      if (!set) {
        set = new Set();
        this.index.set(key, set);
      }
      set.add(alarm);
    }
    this.wake(alarm, this.clock.now().getTime());
  }

  private unindex(alarm: Alarm): void {
    alarm.scheduledAt = undefined;
    for (const key of alarm.keys) this.index.get(key)?.delete(alarm);
  }

  private build(props: AlarmProps): Alarm {
    const name = props.AlarmName;
    if (!name) throw new Error('defineAlarm: AlarmName is required');
    const fail = (msg: string): never => {
      throw new Error(`defineAlarm ${name}: ${msg}`);
    };
    if (!(props.ComparisonOperator in COMPARISON_TEXT)) {
      fail(`unsupported ComparisonOperator ${String(props.ComparisonOperator)}`);
    }
    const n = toNumber(props.EvaluationPeriods, 'EvaluationPeriods');
    const m =
      props.DatapointsToAlarm === undefined ? n : toNumber(props.DatapointsToAlarm, 'DatapointsToAlarm');
    if (n < 1 || m < 1 || m > n)
      fail(`DatapointsToAlarm (${m}) must be between 1 and EvaluationPeriods (${n})`);
    const treat = props.TreatMissingData ?? 'missing';
    if (!['missing', 'notBreaching', 'breaching', 'ignore'].includes(treat)) {
      fail(`unsupported TreatMissingData ${treat}`);
    }

    let periodSeconds: number;
    let compute: (startMs: number) => number | undefined;
    let statistic: string | undefined;
    const refs: MetricRef[] = [];
    let eventMetrics: Record<string, unknown>[];

    if (props.Metrics && props.Metrics.length > 0) {
      if (props.MetricName || props.Namespace) fail('give either Metrics or MetricName/Namespace, not both');
      const byId = new Map(props.Metrics.map((q) => [q.Id, q]));
      const returned = props.Metrics.filter((q) => q.ReturnData !== false);
      const root = returned[0];
      if (!root || returned.length !== 1) fail('exactly one of Metrics must have ReturnData true');
      const periods = new Set<number>();
      const parsed = new Map<string, MathNode>();
      for (const q of props.Metrics) {
        if (q.MetricStat && q.Expression) fail(`metric ${q.Id} has both MetricStat and Expression`);
        if (q.MetricStat) {
          periods.add(toNumber(q.MetricStat.Period, `${q.Id}.Period`));
          refs.push({
            namespace: q.MetricStat.Metric.Namespace,
            metricName: q.MetricStat.Metric.MetricName,
            dimensions: dimsOf(q.MetricStat.Metric.Dimensions),
            stat: q.MetricStat.Stat,
          });
        } else if (q.Expression !== undefined) {
          const node = parseMetricMath(q.Expression);
          for (const id of mathIds(node)) {
            if (!byId.has(id)) fail(`expression ${q.Id} uses unknown id ${id}`);
          }
          parsed.set(q.Id, node);
          if (q.Period !== undefined) periods.add(toNumber(q.Period, `${q.Id}.Period`));
        } else fail(`metric ${q.Id} has neither MetricStat nor Expression`);
      }
      if (periods.size !== 1) fail('all metrics of a math alarm must use the same period');
      periodSeconds = [...periods][0] as number;
      // Cycles among expressions are a template error.
      const visiting = new Set<string>();
      const checkCycles = (id: string) => {
        if (visiting.has(id)) fail(`expression ${id} refers to itself`);
        const node = parsed.get(id);
        if (!node) return;
        visiting.add(id);
        for (const dep of mathIds(node)) checkCycles(dep);
        visiting.delete(id);
      };
      for (const id of parsed.keys()) checkCycles(id);
      const rootQuery = root as AlarmMetricDataQuery;
      compute = (startMs) => {
        const cache = new Map<string, number | undefined>();
        const valueFor = (id: string): number | undefined => {
          if (cache.has(id)) return cache.get(id);
          const q = byId.get(id);
          let v: number | undefined;
          if (q?.MetricStat) {
            v = this.datapoint({
              namespace: q.MetricStat.Metric.Namespace,
              metricName: q.MetricStat.Metric.MetricName,
              dimensions: dimsOf(q.MetricStat.Metric.Dimensions),
              stat: q.MetricStat.Stat,
              startMs,
              periodMs: periodSeconds * 1000,
            });
          } else {
            const node = parsed.get(id);
            v = node ? evaluateMetricMath(node, valueFor) : undefined;
          }
          cache.set(id, v);
          return v;
        };
        return valueFor(rootQuery.Id);
      };
      eventMetrics = props.Metrics.map((q) => ({
        id: q.Id,
        ...(q.Expression !== undefined ? { expression: q.Expression } : {}),
        ...(q.Label !== undefined ? { label: q.Label } : {}),
        ...(q.MetricStat
          ? {
              metricStat: {
                metric: {
                  dimensions: dimsOf(q.MetricStat.Metric.Dimensions),
                  name: q.MetricStat.Metric.MetricName,
                  namespace: q.MetricStat.Metric.Namespace,
                },
                period: toNumber(q.MetricStat.Period, 'Period'),
                stat: q.MetricStat.Stat,
              },
            }
          : {}),
        returnData: q.ReturnData !== false,
      }));
    } else {
      if (!props.Namespace || !props.MetricName) fail('Namespace and MetricName (or Metrics) are required');
      const stat = props.ExtendedStatistic ?? props.Statistic;
      if (!stat) fail('Statistic or ExtendedStatistic is required');
      if (props.ExtendedStatistic && props.Statistic) fail('give Statistic or ExtendedStatistic, not both');
      periodSeconds = toNumber(props.Period, 'Period');
      statistic = stat as string;
      const ref: MetricRef = {
        namespace: props.Namespace as string,
        metricName: props.MetricName as string,
        dimensions: dimsOf(props.Dimensions),
        stat: stat as string,
      };
      refs.push(ref);
      compute = (startMs) => this.datapoint({ ...ref, startMs, periodMs: periodSeconds * 1000 });
      eventMetrics = [
        {
          id: randomUUID(),
          metricStat: {
            metric: { dimensions: ref.dimensions, name: ref.metricName, namespace: ref.namespace },
            period: periodSeconds,
            stat: ref.stat,
          },
          returnData: true,
        },
      ];
    }
    if (
      !(periodSeconds === 10 || periodSeconds === 30 || (periodSeconds >= 60 && periodSeconds % 60 === 0))
    ) {
      fail(`Period ${periodSeconds} must be 10, 30 or a multiple of 60`);
    }
    if (n * periodSeconds > 86_400) fail('EvaluationPeriods × Period must not exceed one day');

    const nowMs = this.clock.now().getTime();
    return {
      props,
      name,
      arn: ALARM_ARN(name),
      periodMs: periodSeconds * 1000,
      periodSeconds,
      n,
      m,
      range: n + 2,
      treat,
      threshold: toNumber(props.Threshold, 'Threshold'),
      comparison: props.ComparisonOperator,
      keys: [...new Set(refs.map((r) => metricKey(r.namespace, r.dimensions)))],
      compute,
      ...(statistic ? { statistic } : {}),
      eventMetrics,
      state: 'INSUFFICIENT_DATA',
      reason: INITIAL_REASON,
      updatedMs: nowMs,
      transitionedMs: nowMs,
      configUpdatedMs: nowMs,
      datapoints: new Map(),
      lastChangeMs: nowMs,
      stablePeriods: 0,
    };
  }

  /** The first source that has a value for the query decides it. */
  private datapoint(query: MetricQuery): number | undefined {
    for (const source of this.sources) {
      const v = source.datapoint(query);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  // ----- evaluation schedule ------------------------------------------------------------------

  private onMetricChange(namespace: string, dimensions: Record<string, string>, atMs: number): void {
    const alarms = this.index.get(metricKey(namespace, dimensions));
    if (!alarms) return;
    for (const alarm of alarms) this.wake(alarm, atMs);
  }

  /** A change at `atMs` can change the datapoints of periods that end after it: evaluate again. */
  private wake(alarm: Alarm, atMs: number): void {
    alarm.lastChangeMs = Math.max(alarm.lastChangeMs, atMs);
    alarm.stablePeriods = 0;
    for (const start of alarm.datapoints.keys()) {
      if (start + alarm.periodMs > atMs) alarm.datapoints.delete(start);
    }
    this.scheduleNext(alarm);
  }

  private scheduleNext(alarm: Alarm): void {
    const now = this.clock.now().getTime();
    const boundary = Math.floor(now / alarm.periodMs) * alarm.periodMs + alarm.periodMs;
    if (alarm.scheduledAt !== undefined && alarm.scheduledAt <= boundary) return;
    alarm.scheduledAt = boundary;
    this.clock.at(boundary, () => this.tick(alarm, boundary));
  }

  private tick(alarm: Alarm, boundary: number): void {
    if (alarm.scheduledAt !== boundary || this.alarms.get(alarm.name) !== alarm) return;
    alarm.scheduledAt = undefined;
    this.evaluate(alarm, boundary);
    if (boundary - alarm.periodMs >= alarm.lastChangeMs) alarm.stablePeriods++;
    if (alarm.stablePeriods < alarm.range) this.scheduleNext(alarm);
  }

  /** Whether the alarm is scheduled to evaluate (false once it has settled). */
  isActive(name: string): boolean {
    return this.alarms.get(name)?.scheduledAt !== undefined;
  }

  private breaches(alarm: Alarm, v: number): boolean {
    switch (alarm.comparison) {
      case 'GreaterThanThreshold':
        return v > alarm.threshold;
      case 'GreaterThanOrEqualToThreshold':
        return v >= alarm.threshold;
      case 'LessThanThreshold':
        return v < alarm.threshold;
      case 'LessThanOrEqualToThreshold':
        return v <= alarm.threshold;
    }
  }

  /** Evaluates the periods that ended at `boundary` (virtual ms). */
  private evaluate(alarm: Alarm, boundary: number): void {
    const { periodMs, range } = alarm;
    const window: { start: number; value: number | undefined }[] = [];
    for (let k = range; k >= 1; k--) {
      const start = boundary - k * periodMs;
      let cached = alarm.datapoints.get(start);
      if (cached === undefined) {
        cached = alarm.compute(start) ?? null;
        alarm.datapoints.set(start, cached);
      }
      window.push({ start, value: cached ?? undefined });
    }
    for (const start of alarm.datapoints.keys()) {
      if (start < boundary - range * periodMs) alarm.datapoints.delete(start);
    }
    const decision = this.decide(alarm, window);
    if (decision.state === 'retain' || decision.state === alarm.state) return;
    const recent = decision.used;
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: cwTime(boundary),
      startDate: cwTime(recent[0]?.start ?? boundary - alarm.n * periodMs),
      ...(alarm.statistic ? { statistic: alarm.statistic } : {}),
      period: alarm.periodSeconds,
      recentDatapoints: recent.map((d) => d.value),
      threshold: alarm.threshold,
    });
    this.transition(alarm, decision.state, decision.reason, reasonData, boundary);
  }

  /**
   * The state the evaluation range gives, per the guide's rules and tables (M = DatapointsToAlarm,
   * N = EvaluationPeriods; ✓ = reproduces the documented row):
   * - ≥ N existing datapoints: the most recent N existing decide; TreatMissingData unused.
   * - fewer: breaching/notBreaching fill the N − existing slots and decide.
   * - missing: all missing → INSUFFICIENT_DATA; ≥ M breaching → ALARM; any non-breaching → OK;
   *   otherwise ALARM when the oldest datapoint of the range is breaching (`X - - - -`), else
   *   INSUFFICIENT_DATA (`- - - - X`).
   * - ignore: as missing, but the undecided cases keep the current state.
   */
  private decide(
    alarm: Alarm,
    window: { start: number; value: number | undefined }[],
  ): { state: AlarmStateValue | 'retain'; reason: string; used: { start: number; value: number }[] } {
    const { n, m } = alarm;
    const existing = window.filter((d): d is { start: number; value: number } => d.value !== undefined);
    const used = existing.slice(-n);
    const breaching = used.filter((d) => this.breaches(alarm, d.value)).length;
    const okCount = used.length - breaching;
    const fill = n - used.length;
    const cmp = COMPARISON_TEXT[alarm.comparison];
    const list = `[${[...used]
      .reverse()
      .map((d) => `${javaDouble(d.value)} (${reasonTime(d.start)})`)
      .join(', ')}]`;
    const thresholdCrossed = (to: 'ALARM' | 'OK', extraBreaching: number, extraOk: number): string => {
      const count = to === 'ALARM' ? breaching + extraBreaching : okCount + extraOk;
      const minimum = to === 'ALARM' ? m : n - m + 1;
      const filled = extraBreaching + extraOk;
      const filledText =
        filled > 0
          ? ` (${filled} missing ${plural(filled, 'datapoint was', 'datapoints were')} treated as [${
              extraBreaching > 0 ? 'Breaching' : 'NonBreaching'
            }])`
          : '';
      if (used.length === 0) {
        return `Threshold Crossed: no datapoints were received for ${filled} ${plural(filled, 'period', 'periods')} and ${filled} missing ${plural(
          filled,
          'datapoint was',
          'datapoints were',
        )} treated as [${extraBreaching > 0 ? 'Breaching' : 'NonBreaching'}].`;
      }
      return `Threshold Crossed: ${count} out of the last ${n} datapoints ${list}${filledText} ${plural(
        count,
        'was',
        'were',
      )} ${to === 'ALARM' ? '' : 'not '}${cmp} the threshold (${javaDouble(alarm.threshold)}) (minimum ${minimum} ${plural(
        minimum,
        'datapoint',
        'datapoints',
      )} for ${alarm.state} -> ${to} transition).`;
    };
    const insufficient = `Insufficient Data: ${window.length - existing.length} ${plural(
      window.length - existing.length,
      'datapoint was',
      'datapoints were',
    )} unknown.`;

    if (fill <= 0) {
      const to = breaching >= m ? 'ALARM' : 'OK';
      return { state: to, reason: thresholdCrossed(to, 0, 0), used };
    }
    if (alarm.treat === 'breaching' || alarm.treat === 'notBreaching') {
      const extraB = alarm.treat === 'breaching' ? fill : 0;
      const extraOk = fill - extraB;
      const to = breaching + extraB >= m ? 'ALARM' : 'OK';
      return { state: to, reason: thresholdCrossed(to, extraB, extraOk), used };
    }
    // missing / ignore
    const undecided = alarm.treat === 'ignore' ? 'retain' : undefined;
    if (used.length === 0) {
      return { state: undecided ?? 'INSUFFICIENT_DATA', reason: insufficient, used };
    }
    if (breaching >= m) return { state: 'ALARM', reason: thresholdCrossed('ALARM', 0, 0), used };
    if (okCount > 0) return { state: 'OK', reason: thresholdCrossed('OK', 0, 0), used };
    if (undecided) return { state: undecided, reason: '', used };
    const oldest = window[0];
    if (oldest?.value !== undefined && this.breaches(alarm, oldest.value)) {
      return { state: 'ALARM', reason: thresholdCrossed('ALARM', 0, 0), used };
    }
    return { state: 'INSUFFICIENT_DATA', reason: insufficient, used };
  }

  private transition(
    alarm: Alarm,
    to: AlarmStateValue,
    reason: string,
    reasonData: string | undefined,
    atMs: number,
  ): void {
    const previousState = {
      value: alarm.state,
      reason: alarm.reason,
      ...(alarm.reasonData !== undefined ? { reasonData: alarm.reasonData } : {}),
      timestamp: cwTime(alarm.updatedMs),
    };
    const from = alarm.state;
    alarm.state = to;
    alarm.reason = reason;
    alarm.reasonData = reasonData;
    alarm.updatedMs = atMs;
    alarm.transitionedMs = atMs;
    const t: AlarmTransition = { name: alarm.name, from, to, at: new Date(atMs).toISOString(), reason };
    this.transitions.push(t);
    if (this.transitions.length > 10_000) this.transitions.splice(0, this.transitions.length - 10_000);
    for (const l of this.listeners) l(t);
    this.events.putFromService('default', {
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      resources: [alarm.arn],
      time: new Date(atMs).toISOString(),
      detail: {
        alarmName: alarm.name,
        state: {
          value: to,
          reason,
          ...(reasonData !== undefined ? { reasonData } : {}),
          timestamp: cwTime(atMs),
        },
        previousState,
        configuration: {
          metrics: alarm.eventMetrics,
          ...(alarm.props.AlarmDescription !== undefined
            ? { description: alarm.props.AlarmDescription }
            : {}),
        },
      },
    });
  }

  // ----- readers ------------------------------------------------------------------------------

  onTransition(listener: (t: AlarmTransition) => void): void {
    this.listeners.push(listener);
  }

  /** For the CodeDeploy emulator (its service role; no IAM check). Reads state only. */
  alarmStates(names: readonly string[]): { name: string; state: AlarmStateValue }[] {
    return names.flatMap((name) => {
      const a = this.alarms.get(name);
      return a ? [{ name, state: a.state }] : [];
    });
  }

  // ----- API ----------------------------------------------------------------------------------

  /**
   * IAM checks, per the Service Authorization Reference for CloudWatch and the DescribeAlarms API
   * reference:
   * - DescribeAlarms supports the `alarm` resource type: with AlarmNames, each named alarm's ARN is
   *   checked. Without names it lists the account's alarms and is checked on `*` (the API reference:
   *   composite alarms are returned only with the permission scoped to `*`; this twin has none).
   * - SetAlarmState: the alarm's ARN.
   */
  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const action = `cloudwatch:${command}`;
    if (command === 'DescribeAlarms') {
      const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as string[]) : [];
      if (names.length === 0) return [{ action, resource: '*' }];
      return [...new Set(names)].map((name) => ({ action, resource: ALARM_ARN(name) }));
    }
    if (command === 'SetAlarmState') {
      return [{ action, resource: ALARM_ARN(String(input.AlarmName ?? '')) }];
    }
    return [{ action, resource: '*' }];
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    _caller: Caller,
  ): Promise<Record<string, unknown>> {
    if (command === 'DescribeAlarms') return this.describeAlarms(input);
    if (command === 'SetAlarmState') return this.setAlarmState(input);
    throw serviceError(
      CloudWatchServiceException,
      'InvalidAction',
      `The action ${command} is not valid for this web service.`,
    );
  }

  private describeAlarms(input: Record<string, unknown>): Record<string, unknown> {
    const names = input.AlarmNames as string[] | undefined;
    const prefix = input.AlarmNamePrefix as string | undefined;
    if (names && names.length > MAX_ALARM_NAMES) {
      throw serviceError(
        CloudWatchServiceException,
        'ValidationError',
        `1 validation error detected: Value '[${names.join(', ')}]' at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ALARM_NAMES}`,
      );
    }
    if (names && names.length > 0 && prefix !== undefined) {
      throw serviceError(
        InvalidParameterCombinationException,
        'InvalidParameterCombinationException',
        'AlarmNamePrefix and AlarmNames cannot be specified together.',
      );
    }
    const maxRecords = input.MaxRecords === undefined ? DEFAULT_MAX_RECORDS : Number(input.MaxRecords);
    if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > 100) {
      throw serviceError(
        CloudWatchServiceException,
        'ValidationError',
        `1 validation error detected: Value '${String(input.MaxRecords)}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100`,
      );
    }
    const types = input.AlarmTypes as string[] | undefined;
    // Without AlarmTypes only metric alarms are returned; composite alarms do not exist here.
    const wantMetric = !types || types.includes('MetricAlarm');
    const stateValue = input.StateValue as string | undefined;
    let candidates: Alarm[] = [];
    if (wantMetric && names && names.length > 0) {
      // By name: looked up, not scanned (the cost must not grow with the alarms of other components).
      for (const name of new Set(names)) {
        const alarm = this.alarms.get(name);
        if (alarm) candidates.push(alarm);
      }
    } else if (wantMetric) candidates = [...this.alarms.values()];
    if (prefix !== undefined) candidates = candidates.filter((a) => a.name.startsWith(prefix));
    if (stateValue !== undefined) candidates = candidates.filter((a) => a.state === stateValue);
    candidates.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    let start = 0;
    if (input.NextToken !== undefined) {
      const after = decodeToken(String(input.NextToken));
      if (after === undefined) {
        throw serviceError(
          InvalidNextToken,
          'InvalidNextToken',
          'The service returned an invalid next token.',
        );
      }
      start = candidates.findIndex((a) => a.name > after);
      if (start < 0) start = candidates.length;
    }
    const page = candidates.slice(start, start + maxRecords);
    const more = start + maxRecords < candidates.length;
    const last = page[page.length - 1];
    return {
      MetricAlarms: page.map((a) => this.describe(a)),
      CompositeAlarms: [],
      ...(more && last ? { NextToken: encodeToken(last.name) } : {}),
    };
  }

  private describe(a: Alarm): Record<string, unknown> {
    const p = a.props;
    return {
      AlarmName: a.name,
      AlarmArn: a.arn,
      ...(p.AlarmDescription !== undefined ? { AlarmDescription: p.AlarmDescription } : {}),
      AlarmConfigurationUpdatedTimestamp: new Date(a.configUpdatedMs),
      ActionsEnabled: p.ActionsEnabled ?? true,
      OKActions: p.OKActions ?? [],
      AlarmActions: p.AlarmActions ?? [],
      InsufficientDataActions: p.InsufficientDataActions ?? [],
      StateValue: a.state,
      StateReason: a.reason,
      ...(a.reasonData !== undefined ? { StateReasonData: a.reasonData } : {}),
      StateUpdatedTimestamp: new Date(a.updatedMs),
      StateTransitionedTimestamp: new Date(a.transitionedMs),
      ...(p.Metrics
        ? {
            Metrics: p.Metrics.map((q) => ({
              ...q,
              ...(q.MetricStat
                ? { MetricStat: { ...q.MetricStat, Period: Number(q.MetricStat.Period) } }
                : {}),
              ReturnData: q.ReturnData !== false,
            })),
          }
        : {
            MetricName: p.MetricName,
            Namespace: p.Namespace,
            ...(p.Statistic ? { Statistic: p.Statistic } : {}),
            ...(p.ExtendedStatistic ? { ExtendedStatistic: p.ExtendedStatistic } : {}),
            Dimensions: p.Dimensions ?? [],
            Period: a.periodSeconds,
            ...(p.Unit ? { Unit: p.Unit } : {}),
          }),
      EvaluationPeriods: a.n,
      DatapointsToAlarm: a.m,
      Threshold: a.threshold,
      ComparisonOperator: a.comparison,
      TreatMissingData: a.treat,
    };
  }

  /** Sets the state until the next evaluation (which the alarm schedules), and publishes it. */
  private setAlarmState(input: Record<string, unknown>): Record<string, unknown> {
    const name = String(input.AlarmName ?? '');
    const alarm = this.alarms.get(name);
    if (!alarm) throw serviceError(ResourceNotFound, 'ResourceNotFound', `Alarm ${name} not found`);
    const value = input.StateValue as AlarmStateValue;
    if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(value)) {
      throw serviceError(
        CloudWatchServiceException,
        'ValidationError',
        `1 validation error detected: Value '${String(value)}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]`,
      );
    }
    const reasonData = input.StateReasonData as string | undefined;
    if (reasonData !== undefined) {
      try {
        JSON.parse(reasonData);
      } catch {
        throw serviceError(InvalidFormatFault, 'InvalidFormatFault', 'StateReasonData is not valid JSON.');
      }
    }
    const now = this.clock.now().getTime();
    if (value !== alarm.state)
      this.transition(alarm, value, String(input.StateReason ?? ''), reasonData, now);
    this.scheduleNext(alarm);
    return {};
  }

  // ----- persistence --------------------------------------------------------------------------

  snapshot(): CloudWatchSnapshot {
    return {
      alarms: [...this.alarms.values()].map((a) => ({
        name: a.name,
        state: a.state,
        reason: a.reason,
        ...(a.reasonData !== undefined ? { reasonData: a.reasonData } : {}),
        updatedMs: a.updatedMs,
        transitionedMs: a.transitionedMs,
      })),
    };
  }

  /** Restores alarm states (defined alarms now, others when they are defined); they re-evaluate. */
  restore(data: CloudWatchSnapshot): void {
    for (const saved of data.alarms) {
      const alarm = this.alarms.get(saved.name);
      if (alarm) {
        this.applySaved(alarm, saved);
        this.wake(alarm, this.clock.now().getTime());
      } else this.restored.set(saved.name, saved);
    }
  }

  private applySaved(alarm: Alarm, saved: CloudWatchSnapshot['alarms'][number]): void {
    alarm.state = saved.state;
    alarm.reason = saved.reason;
    alarm.reasonData = saved.reasonData;
    alarm.updatedMs = saved.updatedMs;
    alarm.transitionedMs = saved.transitionedMs;
  }
}

function encodeToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName }), 'utf8').toString('base64');
}

function decodeToken(token: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { after?: unknown };
    return typeof parsed.after === 'string' ? parsed.after : undefined;
  } catch {
    return undefined;
  }
}
