/**
 * Which version serves which share of live traffic, per component and environment, over virtual
 * time: the local stand-in for a Lambda alias's weights or an ECS service's target groups.
 */
export interface Weights {
  [version: string]: number;
}

interface Change {
  atMs: number;
  weights: Weights;
}

export class LiveTraffic {
  private timelines = new Map<string, Change[]>();

  static key(component: string, environment: string): string {
    return `${component}#${environment}`;
  }

  /** Sets the serving version when the target has no history yet. */
  seed(key: string, version: string, atMs: number): void {
    if (!this.timelines.has(key)) this.timelines.set(key, [{ atMs, weights: { [version]: 100 } }]);
  }

  set(key: string, atMs: number, weights: Weights): void {
    const timeline = this.timelines.get(key) ?? [];
    timeline.push({ atMs, weights: { ...weights } });
    this.timelines.set(key, timeline);
  }

  at(key: string, atMs: number): Weights {
    const timeline = this.timelines.get(key) ?? [];
    let current: Weights = {};
    for (const change of timeline) {
      if (change.atMs <= atMs) current = change.weights;
      else break;
    }
    return current;
  }

  /** The version with all traffic, if one has it. */
  serving(key: string, atMs: number): string | undefined {
    const w = this.at(key, atMs);
    const entries = Object.entries(w).filter(([, p]) => p > 0);
    return entries.length === 1 ? entries[0]?.[0] : undefined;
  }

  snapshot(): Record<string, Change[]> {
    return Object.fromEntries(this.timelines);
  }

  restore(data: Record<string, Change[]>): void {
    this.timelines = new Map(Object.entries(data));
  }
}
