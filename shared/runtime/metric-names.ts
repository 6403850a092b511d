/**
 * The names Upshift's metrics are published under: what the functions emit
 * (shared/runtime/observability.ts) and what the dashboard and alarms read (infra/monitoring.ts).
 * No import, so the CDK app reads them without loading Powertools.
 */
export const SERVICE = 'upshift';
export const METRICS_NAMESPACE = 'Upshift';

export const metricNames = {
  upgrades: 'Upgrades',
  rollbacks: 'Rollbacks',
  stepDuration: 'StepDuration',
  approvalsWaiting: 'ApprovalsWaiting',
  reactionTime: 'ReactionTime',
  oldestInFlightAge: 'OldestInFlightAge',
} as const;

/** Every metric carries Powertools' default dimension `service`, then its own (Outcome, Step). */
export const DEFAULT_DIMENSIONS = { service: SERVICE } as const;
