import { randomUUID } from 'node:crypto';
import { EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { type EventPattern, matchesPattern, validatePattern } from '../../shared/domain/event-pattern';
import {
  type AuthorizationRequest,
  type BusEntry,
  type Caller,
  type EventSink,
  type ServiceEmulator,
  serviceError,
  TWIN_ACCOUNT,
  TWIN_REGION,
  type TwinClock,
  twinArn,
} from '../twin/contracts';

/**
 * The EventBridge of the twin: the `default` bus and the stack's custom buses, the rules of the
 * synthesized template, PutEvents with the SDK's shapes and EventBridge's documented validation,
 * and at-least-once delivery with the targets' retry policies and dead-letter queues, all on the
 * virtual clock.
 *
 * AWS facts this follows (EventBridge User Guide and API Reference):
 * - PutEvents takes 1 to 10 entries; more is a ValidationException for the whole call.
 * - The total entry size must be under 256 KB, computed as "Calculating PutEvents event entry
 *   size" says: Time 14 bytes when given, plus the UTF-8 bytes of Source, DetailType, Detail and
 *   each Resources entry. Over it the whole call fails with ValidationException ("Total size of
 *   the entries in the request is over the limit.").
 * - Per entry (PutEventsResultEntry): a missing Source, DetailType or Detail fails that entry
 *   with InvalidArgument ("Parameter Detail is not valid. Reason: Detail is a required
 *   argument."); a Detail that is not a JSON object fails it with MalformedDetail ("Detail is
 *   malformed."). The other entries succeed.
 * - An entry naming a bus that does not exist is accepted (an EventId, no error) and goes nowhere:
 *   a long-standing, reported behaviour of the real service (aws/aws-cli#9186, aws/aws-sdk#186).
 *   The twin does the same and counts it in `unroutable`; the IAM check on the bus ARN usually
 *   catches a wrong bus name first, as it does on AWS.
 * - Retries: "By default, EventBridge retries sending the event for 24 hours and up to 185 times
 *   with an exponential back off and jitter" for retriable errors; then the event goes to the
 *   target's dead-letter queue, or is dropped.
 * - IAM: events:PutEvents on each entry's event-bus ARN, with the condition keys
 *   `events:source` and `events:detail-type` (EventBridge's "Using IAM policy conditions").
 */

export interface RetryPolicy {
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
}

/** A rule target (resolved AWS::Events::Rule Targets, lower-cased). */
export interface RuleTarget {
  id: string;
  arn: string;
  roleArn?: string;
  /** A JSON text sent instead of the event. */
  input?: string;
  /** A JSONPath (`$`, `$.detail`, `$.detail.x`) selecting the part of the event sent. */
  inputPath?: string;
  retryPolicy?: RetryPolicy;
  /** The SQS queue ARN of the target's dead-letter queue. */
  deadLetterArn?: string;
  /** An API destination target's request shaping (local/twin/api-destinations.ts sends it). */
  inputTransformer?: { InputTemplate: string; InputPathsMap?: Record<string, string> };
  httpParameters?: {
    HeaderParameters?: Record<string, string>;
    QueryStringParameters?: Record<string, string>;
    PathParameterValues?: string[];
  };
}

/** A rule (resolved AWS::Events::Rule properties, lower-cased). */
export interface RuleSpec {
  name: string;
  busName: string;
  eventPattern?: object;
  scheduleExpression?: string;
  state?: 'ENABLED' | 'DISABLED';
  targets: RuleTarget[];
}

/** An event as EventBridge delivers it. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** An event that exhausted its retries, as kept in its target's dead-letter queue. */
export interface DeadLetter {
  event: BusEvent;
  /** The last delivery error's message. */
  error: string;
  /** Rule name. */
  rule: string;
  /** Target id. */
  target: string;
  ruleArn: string;
  targetArn: string;
  retryAttempts: number;
}

/** One entry of `log`: an event put on a bus (or a scheduled event fired). */
export interface LoggedEvent {
  bus: string;
  event: BusEvent;
  /** Names of the ENABLED rules it matched. */
  rules: string[];
}

export interface EventBridgeSnapshot {
  deadLetters: [string, DeadLetter[]][];
  dropped: number;
}

export interface EventBridgeEmulatorOptions {
  clock: TwinClock;
  deliver: (target: RuleTarget, event: BusEvent, rule: RuleSpec) => Promise<void>;
  /** Seeded randomness for jitter and the test options; Math.random when absent. */
  random?: () => number;
  /** Test option: the probability (0..1) that a delivery happens twice (at-least-once). */
  duplicates?: number;
  /** Test option: each delivery waits a random 0..reorderMs virtual ms, so order can change. */
  reorderMs?: number;
}

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const LOG_LIMIT = 10_000;
const DEFAULT_MAX_RETRIES = 185;
const DEFAULT_MAX_AGE_SECONDS = 86_400;
/** Backoff: 1 s doubling up to 480 s, so 185 retries span about the default 24 hours. */
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 480_000;

export const busArn = (name: string) => twinArn('events', `event-bus/${name}`);
export const ruleArn = (busName: string, ruleName: string) =>
  twinArn('events', busName === 'default' ? `rule/${ruleName}` : `rule/${busName}/${ruleName}`);

/** EventBridge's `time`: ISO 8601 to the second (`2019-10-02T17:04:40Z`). */
const eventTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const utf8 = (s: unknown) => (typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0);

/** The entry size as "Calculating PutEvents event entry size" defines it. */
export function putEventsEntrySize(entry: Record<string, unknown>): number {
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  size += utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const r of entry.Resources) size += utf8(r);
  return size;
}

/** What a target receives: Input (constant JSON), InputPath (part of the event) or the event. */
export function targetPayload(target: RuleTarget, event: BusEvent): unknown {
  if (target.input !== undefined) return JSON.parse(target.input);
  if (target.inputPath !== undefined) {
    let node: unknown = event;
    for (const key of parseInputPath(target.inputPath)) {
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
    return node;
  }
  return event;
}

function parseInputPath(path: string): string[] {
  if (path === '$') return [];
  if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path))
    throw new Error(`unsupported InputPath ${path} (use $ or $.a.b)`);
  return path.slice(2).split('.');
}

// ----- schedules --------------------------------------------------------------------------------

type Schedule = { kind: 'rate'; everyMs: number } | { kind: 'cron'; fields: CronFields };

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth?: Set<number>;
  months: Set<number>;
  /** 0 = Sunday (AWS writes 1-7 = SUN-SAT). */
  daysOfWeek?: Set<number>;
  years?: Set<number>;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** `rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)`, and 6-field `cron(...)`. */
export function parseSchedule(expression: string): Schedule {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] as string;
    if (value < 1) throw new Error(`invalid schedule ${expression}: the value must be positive`);
    if ((value === 1) !== !unit.endsWith('s')) {
      throw new Error(
        `invalid schedule ${expression}: use "1 ${unit.replace(/s$/, '')}" or "N ${unit.replace(/s?$/, 's')}"`,
      );
    }
    const unitMs = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
    return { kind: 'rate', everyMs: value * unitMs };
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) throw new Error(`invalid schedule ${expression}: expected rate(...) or cron(...)`);
  const parts = (cron[1] as string).trim().split(/\s+/);
  if (parts.length !== 6) throw new Error(`invalid schedule ${expression}: cron takes 6 fields`);
  const [min, hour, dom, month, dow, year] = parts as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new Error(`invalid schedule ${expression}: exactly one of day-of-month and day-of-week must be ?`);
  }
  const field = (
    text: string,
    lo: number,
    hi: number,
    names?: string[],
    offset = 0,
  ): Set<number> | undefined => {
    if (text === '?') return undefined;
    const out = new Set<number>();
    for (const part of text.split(',')) {
      const m = /^(\*|[A-Z0-9]+(?:-[A-Z0-9]+)?)(?:\/(\d+))?$/.exec(part.toUpperCase());
      if (!m) throw new Error(`invalid schedule ${expression}: unsupported cron field "${text}"`);
      const value = (v: string) => {
        const named = names?.indexOf(v) ?? -1;
        const n = named >= 0 ? named + offset : Number(v);
        if (!Number.isInteger(n) || n < lo || n > hi)
          throw new Error(`invalid schedule ${expression}: "${v}" out of range`);
        return n;
      };
      const range = m[1] as string;
      const [from, to] =
        range === '*'
          ? [lo, hi]
          : range.includes('-')
            ? range.split('-').map(value)
            : [value(range), m[2] ? hi : value(range)];
      const step = m[2] ? Number(m[2]) : 1;
      for (let v = from as number; v <= (to as number); v += step) out.add(v);
    }
    return out;
  };
  const dows = field(dow, 1, 7, DAYS, 1);
  const fields: CronFields = {
    minutes: field(min, 0, 59) ?? new Set(),
    hours: field(hour, 0, 23) ?? new Set(),
    months: field(month, 1, 12, MONTHS, 1) ?? new Set(),
  };
  const doms = field(dom, 1, 31);
  if (doms) fields.daysOfMonth = doms;
  if (dows) fields.daysOfWeek = new Set([...dows].map((d) => d - 1));
  if (year !== '*') {
    const years = field(year, 1970, 2199);
    if (years) fields.years = years;
  }
  return { kind: 'cron', fields };
}

/** The first cron time (UTC, whole minutes) at or after `fromMs`; undefined within 5 years none. */
function nextCron(f: CronFields, fromMs: number): number | undefined {
  const start = Math.ceil(fromMs / 60_000) * 60_000;
  const day0 = Math.floor(start / 86_400_000) * 86_400_000;
  const minutes = [...f.minutes].sort((a, b) => a - b);
  const hours = [...f.hours].sort((a, b) => a - b);
  for (let day = day0; day < day0 + 5 * 366 * 86_400_000; day += 86_400_000) {
    const d = new Date(day);
    if (f.years && !f.years.has(d.getUTCFullYear())) continue;
    if (!f.months.has(d.getUTCMonth() + 1)) continue;
    if (f.daysOfMonth && !f.daysOfMonth.has(d.getUTCDate())) continue;
    if (f.daysOfWeek && !f.daysOfWeek.has(d.getUTCDay())) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = day + h * 3_600_000 + m * 60_000;
        if (t >= start) return t;
      }
    }
  }
  return undefined;
}

// ----- the emulator -----------------------------------------------------------------------------

interface Rule {
  spec: RuleSpec;
  pattern?: EventPattern;
  schedule?: Schedule;
  definedMs: number;
  lastFiredMs?: number;
}

interface Delivery {
  rule: Rule;
  target: RuleTarget;
  event: BusEvent;
  receivedMs: number;
  retries: number;
}

export class EventBridgeEmulator implements ServiceEmulator, EventSink {
  readonly prefix = 'events' as const;
  /** The last 10,000 events put on any bus (and scheduled events fired), oldest first. */
  readonly log: LoggedEvent[] = [];
  private readonly putListeners: ((entry: LoggedEvent) => void)[] = [];
  /** Dead-letter queue ARN → the events that exhausted their retries there. */
  readonly deadLetters = new Map<string, DeadLetter[]>();
  /** Events that exhausted their retries on a target without a dead-letter queue. */
  dropped = 0;
  /** Entries accepted for a bus that does not exist (see the header). */
  unroutable = 0;
  /** Successful deliveries (including duplicates). */
  delivered = 0;
  duplicates: number;
  reorderMs: number;

  private readonly buses = new Map<string, Map<string, Rule>>([['default', new Map()]]);
  private readonly rules = new Map<string, Rule>();
  private readonly clock: TwinClock;
  private readonly deliver: EventBridgeEmulatorOptions['deliver'];
  private readonly random: () => number;

  constructor(options: EventBridgeEmulatorOptions) {
    this.clock = options.clock;
    this.deliver = options.deliver;
    this.random = options.random ?? Math.random;
    this.duplicates = options.duplicates ?? 0;
    this.reorderMs = options.reorderMs ?? 0;
  }

  // ----- definitions --------------------------------------------------------------------------

  defineBus(name: string): void {
    if (!/^[A-Za-z0-9._\-/]{1,256}$/.test(name) || name.includes('/')) {
      throw new Error(`defineBus: invalid event bus name ${name}`);
    }
    if (!this.buses.has(name)) this.buses.set(name, new Map());
  }

  hasBus(name: string): boolean {
    return this.buses.has(name);
  }

  /** Adds (or replaces) a rule from the template. Rule names are unique across buses here. */
  defineRule(spec: RuleSpec): void {
    const bus = this.buses.get(spec.busName);
    if (!bus) throw new Error(`defineRule ${spec.name}: event bus ${spec.busName} does not exist`);
    if (!spec.eventPattern && !spec.scheduleExpression) {
      throw new Error(`defineRule ${spec.name}: needs an eventPattern or a scheduleExpression`);
    }
    const rule: Rule = { spec, definedMs: this.clock.now().getTime() };
    if (spec.eventPattern) {
      const problems = validatePattern(spec.eventPattern);
      if (problems.length > 0)
        throw new Error(`defineRule ${spec.name}: invalid event pattern: ${problems.join('; ')}`);
      rule.pattern = spec.eventPattern as EventPattern;
    }
    if (spec.scheduleExpression) {
      // Scheduled rules run on the default bus only.
      if (spec.busName !== 'default') {
        throw new Error(`defineRule ${spec.name}: a scheduled rule must be on the default event bus`);
      }
      rule.schedule = parseSchedule(spec.scheduleExpression);
    }
    for (const t of spec.targets) if (t.inputPath !== undefined) parseInputPath(t.inputPath);
    const previous = this.rules.get(spec.name);
    if (previous) this.buses.get(previous.spec.busName)?.delete(spec.name);
    this.rules.set(spec.name, rule);
    bus.set(spec.name, rule);
  }

  rule(name: string): RuleSpec | undefined {
    return this.rules.get(name)?.spec;
  }

  // ----- schedules ----------------------------------------------------------------------------

  /**
   * When a scheduled rule fires next: the first fire time after `afterMs` (default: its last
   * fire, or its definition) and not before now. Undefined for a disabled or unscheduled rule.
   *
   * Schedules do not fire by themselves: the stack asks this, then calls `fireSchedule` when
   * virtual time gets there. A self-rescheduling timer would keep the virtual clock busy forever
   * and tick through periods in which the target would only find nothing to do; the stack knows
   * when that is and skips those ticks, which changes nothing observable.
   */
  nextScheduledFire(ruleName: string, afterMs?: number): Date | undefined {
    const rule = this.rules.get(ruleName);
    if (!rule?.schedule || rule.spec.state === 'DISABLED') return undefined;
    const after = afterMs ?? rule.lastFiredMs ?? rule.definedMs;
    const from = Math.max(after + 1, this.clock.now().getTime());
    if (rule.schedule.kind === 'rate') {
      const every = rule.schedule.everyMs;
      const k = Math.max(1, Math.ceil((from - rule.definedMs) / every));
      return new Date(rule.definedMs + k * every);
    }
    const t = nextCron(rule.schedule.fields, from);
    return t === undefined ? undefined : new Date(t);
  }

  /** Fires a scheduled rule now: a `Scheduled Event` from `aws.events` goes to its targets. */
  fireSchedule(ruleName: string): BusEvent {
    const rule = this.rules.get(ruleName);
    if (!rule?.schedule) throw new Error(`fireSchedule: ${ruleName} is not a scheduled rule`);
    const now = this.clock.now().getTime();
    rule.lastFiredMs = now;
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: TWIN_ACCOUNT,
      time: eventTime(now),
      region: TWIN_REGION,
      resources: [ruleArn(rule.spec.busName, rule.spec.name)],
      detail: {},
    };
    const enabled = rule.spec.state !== 'DISABLED';
    this.record({ bus: rule.spec.busName, event, rules: enabled ? [rule.spec.name] : [] });
    if (enabled) this.fanOut(rule, event, now);
    return event;
  }

  // ----- putting events -----------------------------------------------------------------------

  /** A service's event (CodeDeploy, CloudWatch...): no size checks and no IAM, as on AWS. */
  putFromService(busName: string, entry: BusEntry): void {
    const now = this.clock.now().getTime();
    this.route(busName, {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.detailType,
      source: entry.source,
      account: TWIN_ACCOUNT,
      time: eventTime(entry.time ? Date.parse(entry.time) : now),
      region: TWIN_REGION,
      resources: entry.resources ?? [],
      detail: entry.detail,
    });
  }

  private route(busName: string, event: BusEvent): void {
    const rules = this.buses.get(busName);
    if (!rules) {
      this.unroutable++;
      return;
    }
    const now = this.clock.now().getTime();
    const matched: Rule[] = [];
    for (const rule of rules.values()) {
      if (rule.spec.state === 'DISABLED' || !rule.pattern) continue;
      if (matchesPattern(rule.pattern, event)) matched.push(rule);
    }
    this.record({ bus: busName, event, rules: matched.map((r) => r.spec.name) });
    for (const rule of matched) this.fanOut(rule, event, now);
  }

  /** Tells `listener` of every event put on a bus (the demo's timeline, the stack's observers). */
  onPut(listener: (entry: LoggedEvent) => void): void {
    this.putListeners.push(listener);
  }

  private record(entry: LoggedEvent): void {
    for (const listener of this.putListeners) listener(entry);
    this.log.push(entry);
    if (this.log.length > LOG_LIMIT + LOG_LIMIT / 10) this.log.splice(0, this.log.length - LOG_LIMIT);
  }

  /** Delivers to every target of the rule, asynchronously, at least once. */
  private fanOut(rule: Rule, event: BusEvent, receivedMs: number): void {
    for (const target of rule.spec.targets) {
      const copies = this.duplicates > 0 && this.random() < this.duplicates ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const delay = this.reorderMs > 0 ? Math.floor(this.random() * this.reorderMs) : 0;
        const delivery: Delivery = { rule, target, event, receivedMs, retries: 0 };
        this.clock.at(this.clock.now().getTime() + delay, () => this.attempt(delivery));
      }
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    try {
      await this.deliver(d.target, d.event, d.rule.spec);
      this.delivered++;
    } catch (error) {
      const now = this.clock.now().getTime();
      const maxRetries = d.target.retryPolicy?.maximumRetryAttempts ?? DEFAULT_MAX_RETRIES;
      const maxAgeMs = (d.target.retryPolicy?.maximumEventAgeInSeconds ?? DEFAULT_MAX_AGE_SECONDS) * 1000;
      if (retriable(error) && d.retries < maxRetries) {
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(d.retries, 20));
        const delay = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
        if (now + delay - d.receivedMs <= maxAgeMs) {
          d.retries++;
          this.clock.at(now + delay, () => this.attempt(d));
          return;
        }
      }
      this.deadLetter(d, error);
    }
  }

  private deadLetter(d: Delivery, error: unknown): void {
    const queue = d.target.deadLetterArn;
    if (!queue) {
      this.dropped++;
      return;
    }
    let list = this.deadLetters.get(queue);
    if (!list) {
      list = [];
      this.deadLetters.set(queue, list);
    }
    list.push({
      event: d.event,
      error: error instanceof Error ? error.message : String(error),
      rule: d.rule.spec.name,
      target: d.target.id,
      ruleArn: ruleArn(d.rule.spec.busName, d.rule.spec.name),
      targetArn: d.target.arn,
      retryAttempts: d.retries,
    });
  }

  // ----- API ----------------------------------------------------------------------------------

  /** PutEvents: events:PutEvents on each entry's bus ARN, with events:source and events:detail-type. */
  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const action = `events:${command}`;
    if (command !== 'PutEvents') return [{ action, resource: '*' }];
    const entries = Array.isArray(input.Entries) ? (input.Entries as Record<string, unknown>[]) : [];
    const seen = new Map<string, AuthorizationRequest>();
    for (const entry of entries) {
      const context: Record<string, string> = {};
      if (typeof entry.Source === 'string') context['events:source'] = entry.Source;
      if (typeof entry.DetailType === 'string') context['events:detail-type'] = entry.DetailType;
      const request: AuthorizationRequest = { action, resource: this.busArnOf(entry.EventBusName), context };
      seen.set(JSON.stringify(request), request);
    }
    return [...seen.values()];
  }

  private busArnOf(name: unknown): string {
    if (typeof name !== 'string' || name === '') return busArn('default');
    return name.startsWith('arn:') ? name : busArn(name);
  }

  /** The bus an EventBusName (name or ARN) names in this account and region, if it is one. */
  private busNameOf(name: unknown): string | undefined {
    if (typeof name !== 'string' || name === '') return 'default';
    if (!name.startsWith('arn:')) return name;
    const prefix = twinArn('events', 'event-bus/');
    return name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    _caller: Caller,
  ): Promise<Record<string, unknown>> {
    if (command !== 'PutEvents') {
      throw serviceError(
        EventBridgeServiceException,
        'UnknownOperationException',
        `Unsupported operation ${command}`,
      );
    }
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      const count = Array.isArray(entries) ? entries.length : 0;
      throw serviceError(
        EventBridgeServiceException,
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${
          count < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`
        }`,
      );
    }
    const total = (entries as Record<string, unknown>[]).reduce(
      (sum, e) => sum + putEventsEntrySize(e ?? {}),
      0,
    );
    if (total > MAX_REQUEST_BYTES) {
      throw serviceError(
        EventBridgeServiceException,
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const now = this.clock.now().getTime();
    let failed = 0;
    const results = (entries as Record<string, unknown>[]).map((entry) => {
      const error = entryError(entry ?? {});
      if (error) {
        failed++;
        return error;
      }
      const detail = JSON.parse(entry.Detail as string) as Record<string, unknown>;
      const timeMs = timeOf(entry.Time) ?? now;
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account: TWIN_ACCOUNT,
        time: eventTime(timeMs),
        region: TWIN_REGION,
        resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
        detail,
      };
      const bus = this.busNameOf(entry.EventBusName);
      if (bus === undefined) this.unroutable++;
      else this.route(bus, event);
      return { EventId: event.id };
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  // ----- persistence --------------------------------------------------------------------------

  /** The dead-letter queues (rules and buses come from the template on every start). */
  snapshot(): EventBridgeSnapshot {
    return {
      deadLetters: [...this.deadLetters.entries()].map(([k, v]) => [k, [...v]]),
      dropped: this.dropped,
    };
  }

  restore(data: EventBridgeSnapshot): void {
    this.deadLetters.clear();
    for (const [queue, list] of data.deadLetters) this.deadLetters.set(queue, [...list]);
    this.dropped = data.dropped;
  }
}

function entryError(entry: Record<string, unknown>): { ErrorCode: string; ErrorMessage: string } | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    detail = undefined;
  }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  return undefined;
}

function timeOf(time: unknown): number | undefined {
  if (time instanceof Date) return time.getTime();
  if (typeof time === 'number') return time < 1e11 ? time * 1000 : time;
  if (typeof time === 'string') {
    const t = Date.parse(time);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * EventBridge retries "retriable errors"; a target that does not exist or a missing permission is
 * not retried (the event goes to the dead-letter queue at once). A deliverer can also mark an
 * error `retryable: false`.
 */
function retriable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return true;
  const e = error as { name?: string; retryable?: boolean };
  if (e.retryable === false) return false;
  return !['AccessDeniedException', 'ResourceNotFoundException', 'AccessDenied'].includes(e.name ?? '');
}
