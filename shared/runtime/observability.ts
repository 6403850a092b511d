import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, metricNames, SERVICE } from './metric-names';

export { DEFAULT_DIMENSIONS, METRICS_NAMESPACE, metricNames, SERVICE } from './metric-names';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Powertools for AWS Lambda: one logger and one metrics emitter per execution environment, shared
 * by every middleware of the function. On AWS they write JSON logs with the request id and the
 * workflow id, and CloudWatch embedded metrics (namespace `Upshift`). Elsewhere (the twin, the
 * CLI, tests) the same code runs and writes nothing: the twin sets UPSHIFT_LOG_LEVEL=silent, and
 * metrics leave the process only inside Lambda (docs/operations.md). Traces: shared/runtime/tracing.ts.
 */
const levels = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', silent: 'SILENT' } as const;

/** The Powertools level for UPSHIFT_LOG_LEVEL (debug, info, warn, error, silent; info by default). */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): (typeof levels)[keyof typeof levels] {
  return levels[(env.UPSHIFT_LOG_LEVEL ?? 'info') as keyof typeof levels] ?? 'INFO';
}

export const logger = new Logger({ serviceName: SERVICE, logLevel: logLevelFromEnv() });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });

/** Metrics leave the process only inside Lambda and when logs are not silenced. */
export function metricsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.AWS_LAMBDA_FUNCTION_NAME && logLevelFromEnv(env) !== 'SILENT';
}

/**
 * The metrics Upshift emits, by name: what the operations dashboard and alarms read
 * (infra/monitoring.ts). Each takes the dimensions it is shown by.
 */
export const upshiftMetrics = {
  /** One per finished workflow, by outcome (COMPLETED, ROLLED_BACK, REJECTED, ...). */
  upgradeEnded: (outcome: string) => single(metricNames.upgrades, MetricUnit.Count, 1, { Outcome: outcome }),
  /** One per rollback or revert that ended a workflow. */
  rolledBack: () => single(metricNames.rollbacks, MetricUnit.Count, 1, {}),
  /** How long one step's handler ran, by step. */
  stepDuration: (step: string, ms: number) =>
    single(metricNames.stepDuration, MetricUnit.Milliseconds, ms, { Step: step }),
  /** Approvals still waiting for an answer after a reconciler tick (at most the page read). */
  approvalsWaiting: (count: number) => single(metricNames.approvalsWaiting, MetricUnit.Count, count, {}),
  /** From an alarm entering ALARM to the bake watching it being ended. */
  reactionTime: (ms: number) => single(metricNames.reactionTime, MetricUnit.Milliseconds, ms, {}),
  /**
   * Each reconciler tick: how long the oldest wait it read has been open (a deployment in flight,
   * since it was registered; an approval pending, since it was requested), 0 when none. The alarm
   * on the oldest in-flight upgrade reads its Maximum (infra/monitoring.ts).
   */
  oldestInFlightAge: (seconds: number) =>
    single(metricNames.oldestInFlightAge, MetricUnit.Seconds, Math.max(0, seconds), {}),
};

/** A metric with its own dimensions (so `Step` does not leak onto `Upgrades`), kept until flushed. */
function single(name: string, unit: Unit, value: number, dimensions: Record<string, string>) {
  const one = metrics.singleMetric();
  for (const [key, v] of Object.entries(dimensions)) one.addDimension(key, v);
  if (metricsEnabled()) one.addMetric(name, unit, value);
}
