import { randomUUID } from 'node:crypto';
import { type EventPattern, matchesPattern } from '../shared/domain/event-pattern';
import type { EventPublisher, OutboundEvent } from '../shared/ports';
import type { VirtualScheduler } from './scheduler';

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

interface Rule {
  name: string;
  pattern: EventPattern;
  target: (event: BusEvent) => Promise<unknown> | unknown;
}

/**
 * The local EventBridge bus. Rules use the same pattern objects as the CDK stack and the same
 * matcher; every delivery runs as busy work on the scheduler, so virtual time waits for it.
 */
export class LocalEventBus implements EventPublisher {
  readonly log: BusEvent[] = [];
  private rules: Rule[] = [];

  constructor(private readonly scheduler: VirtualScheduler) {}

  addRule(name: string, pattern: EventPattern, target: Rule['target']): void {
    this.rules.push({ name, pattern, target });
  }

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    for (const e of events) {
      this.put({
        version: '0',
        id: randomUUID(),
        'detail-type': e.detailType,
        source: e.source,
        account: '000000000000',
        time: e.time ?? this.scheduler.now().toISOString(),
        region: 'local',
        resources: e.resources ?? [],
        detail: e.detail,
      });
    }
  }

  /** Puts a complete event on the bus (PutEvents) and delivers it to every matching rule. */
  put(event: BusEvent): string[] {
    this.log.push(event);
    const matched: string[] = [];
    for (const rule of this.rules) {
      if (!matchesPattern(rule.pattern, event)) continue;
      matched.push(rule.name);
      void this.scheduler
        .track(async () => {
          await rule.target(event);
        })
        .catch((error) => {
          process.stderr.write(
            `rule ${rule.name} failed to deliver ${event.id}: ${(error as Error).message}\n`,
          );
        });
    }
    return matched;
  }
}
