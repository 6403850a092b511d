import { type AlarmDefinition, alarmName, type Component } from '../shared/domain/catalog';
import { percentile } from '../shared/domain/statistics';
import type { AlarmReader, AlarmState, EventPublisher } from '../shared/ports';
import type { VirtualScheduler } from './scheduler';
import type { LocalTargets } from './targets';
import { LiveTraffic } from './traffic';

interface SimAlarm {
  name: string;
  component: string;
  environment: string;
  def: AlarmDefinition;
  state: AlarmState['state'];
  reason: string;
  updatedAt: string;
  /** End of the last evaluated period, in virtual ms. */
  evaluatedTo: number;
  datapoints: { at: number; value: number }[];
}

export interface AlarmTransition {
  name: string;
  from: AlarmState['state'];
  to: AlarmState['state'];
  at: string;
  reason: string;
}

/** Periods simulated at most when an alarm is read after a long gap. */
const MAX_CATCH_UP_PERIODS = 30;

const comparatorText = (metric: AlarmDefinition['metric']) =>
  metric === 'latencyP99' ? 'milliseconds' : metric === 'errorRate' ? 'percent' : 'errors';

/**
 * A CloudWatch stand-in. Metrics come from synthetic live traffic: every period, the target's
 * requests are split across versions by the live traffic weights and sent to the local targets.
 * Each alarm evaluates its last `evaluationPeriods` datapoints against its threshold, as a
 * CloudWatch metric alarm does (`datapointsToAlarm` of them must breach).
 */
export class CloudWatchSimulator implements AlarmReader {
  private alarms = new Map<string, SimAlarm>();
  readonly transitions: AlarmTransition[] = [];
  private listeners: ((t: AlarmTransition) => void)[] = [];

  constructor(
    private readonly scheduler: VirtualScheduler,
    private readonly traffic: LiveTraffic,
    private readonly targets: LocalTargets,
    private readonly components: () => Record<string, Component>,
    private readonly bus: EventPublisher,
  ) {}

  /** Creates the alarms the CDK stack would create for this component and environment. */
  register(component: string, environment: string, startMs: number): void {
    const c = this.components()[component];
    for (const def of c?.alarms ?? []) {
      const name = alarmName(component, environment, def.id);
      if (this.alarms.has(name)) continue;
      this.alarms.set(name, {
        name,
        component,
        environment,
        def,
        state: 'OK',
        reason: 'created',
        updatedAt: new Date(startMs).toISOString(),
        evaluatedTo: Math.floor(startMs / (def.periodSeconds * 1000)) * def.periodSeconds * 1000,
        datapoints: [],
      });
    }
  }

  onTransition(fn: (t: AlarmTransition) => void): void {
    this.listeners.push(fn);
  }

  async describe(names: readonly string[]): Promise<AlarmState[]> {
    await this.catchUp(this.scheduler.now().getTime());
    return names
      .map((n) => this.alarms.get(n))
      .filter((a): a is SimAlarm => !!a)
      .map((a) => ({ name: a.name, state: a.state, reason: a.reason, updatedAt: a.updatedAt }));
  }

  /** Evaluates every complete period up to `nowMs`, in time order across alarms. */
  async catchUp(nowMs: number): Promise<void> {
    for (const alarm of this.alarms.values()) {
      const periodMs = alarm.def.periodSeconds * 1000;
      // Across a long unobserved stretch (a deferral of days), only the recent periods can decide
      // the alarm's state now; older ones are skipped rather than simulated request by request.
      const horizon = Math.max(alarm.def.evaluationPeriods, MAX_CATCH_UP_PERIODS) * periodMs;
      if (nowMs - alarm.evaluatedTo > horizon) {
        alarm.evaluatedTo = Math.floor((nowMs - horizon) / periodMs) * periodMs;
        alarm.datapoints = [];
      }
      while (alarm.evaluatedTo + periodMs <= nowMs) {
        const start = alarm.evaluatedTo;
        alarm.evaluatedTo += periodMs;
        alarm.datapoints.push({ at: start, value: this.measure(alarm, start, periodMs) });
        if (alarm.datapoints.length > 100) alarm.datapoints.shift();
        await this.evaluate(alarm, alarm.evaluatedTo);
      }
    }
  }

  private measure(alarm: SimAlarm, start: number, periodMs: number): number {
    const component = this.components()[alarm.component];
    if (!component) return 0;
    const key = LiveTraffic.key(alarm.component, alarm.environment);
    const weights = this.traffic.at(key, start);
    const total = Math.round((component.local.requestsPerMinute * periodMs) / 60_000);
    let errors = 0;
    const latencies: number[] = [];
    let sent = 0;
    const versions = Object.entries(weights).filter(([, p]) => p > 0);
    versions.forEach(([version, percent], index) => {
      const n = index === versions.length - 1 ? total - sent : Math.round((total * percent) / 100);
      sent += n;
      for (let i = 0; i < n; i++) {
        const r = this.targets.handle(
          alarm.component,
          version,
          'live',
          `live#${key}#${version}#${start}#${i}`,
        );
        if (!r.ok) errors++;
        latencies.push(r.latencyMs);
      }
    });
    switch (alarm.def.metric) {
      case 'errors':
        return errors;
      case 'errorRate':
        return total ? (100 * errors) / total : 0;
      case 'latencyP99':
        return latencies.length ? percentile(latencies, 99) : 0;
    }
  }

  private async evaluate(alarm: SimAlarm, atMs: number): Promise<void> {
    const { evaluationPeriods, threshold } = alarm.def;
    const needed = alarm.def.datapointsToAlarm ?? evaluationPeriods;
    const window = alarm.datapoints.slice(-evaluationPeriods);
    const breaching = window.filter((d) => d.value > threshold);
    const next: AlarmState['state'] = breaching.length >= needed ? 'ALARM' : 'OK';
    if (next === alarm.state) return;
    const values = window
      .map((d) => `${d.value.toFixed(1)} (${new Date(d.at).toISOString().slice(11, 16)})`)
      .join(', ');
    const reason = `Threshold Crossed: ${breaching.length} out of the last ${window.length} datapoints [${values}] ${
      next === 'ALARM' ? 'were' : 'were not'
    } greater than the threshold (${threshold} ${comparatorText(alarm.def.metric)}) (minimum ${needed} datapoints for ${
      alarm.state
    } -> ${next} transition).`;
    const transition: AlarmTransition = {
      name: alarm.name,
      from: alarm.state,
      to: next,
      at: new Date(atMs).toISOString(),
      reason,
    };
    const previous = { value: alarm.state, reason: alarm.reason, timestamp: cwTime(alarm.updatedAt) };
    alarm.state = next;
    alarm.reason = reason;
    alarm.updatedAt = transition.at;
    this.transitions.push(transition);
    for (const l of this.listeners) l(transition);
    await this.bus.publish([
      {
        source: 'aws.cloudwatch',
        detailType: 'CloudWatch Alarm State Change',
        time: transition.at,
        resources: [`arn:aws:cloudwatch:local:000000000000:alarm:${alarm.name}`],
        detail: {
          alarmName: alarm.name,
          state: {
            value: next,
            reason,
            reasonData: JSON.stringify({
              version: '1.0',
              threshold,
              recentDatapoints: window.map((d) => d.value),
            }),
            timestamp: cwTime(transition.at),
          },
          previousState: previous,
          configuration: { metrics: [], description: `${alarm.def.metric} > ${threshold}` },
        },
      },
    ]);
  }

  snapshot() {
    return [...this.alarms.values()];
  }

  restore(data: SimAlarm[]): void {
    this.alarms = new Map(data.map((a) => [a.name, a]));
  }
}

/** CloudWatch writes timestamps with a `+0000` offset. */
function cwTime(iso: string): string {
  return iso.replace('Z', '+0000');
}
