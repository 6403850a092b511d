import middy from '@middy/core';
import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { finishDeploymentPorts } from '../../shared/aws/port-sets';
import { awsBase, withClients } from '../../shared/aws/ports';
import { callbackPorts } from '../../shared/aws/sfn-clients';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepObservability } from '../../shared/runtime/middleware';
import { upshiftMetrics } from '../../shared/runtime/observability';
import { type ReconcilePorts, type ReconcileResult, reconcile } from './reconcile';

/** Runs on a schedule (every minute); see reconcile.ts. */
export function createHandler(ports: ReconcilePorts) {
  return middy()
    .use(
      // Each tick: the approvals waiting and the age of the oldest wait it read (the dashboard and
      // the oldest in-flight upgrade alarm, infra/monitoring.ts).
      stepObservability<ReconcileResult>('Reconcile', {
        onResult: (_event, result) => {
          upshiftMetrics.approvalsWaiting(result.approvalsWaiting);
          const oldest = result.oldestInFlightAt ? Date.parse(result.oldestInFlightAt) : undefined;
          upshiftMetrics.oldestInFlightAge(
            oldest === undefined ? 0 : Math.round((ports.clock.now().getTime() - oldest) / 1000),
          );
        },
      }),
    )
    .handler((_event, context) =>
      reconcile(ports, { remainingMs: () => context.getRemainingTimeInMillis() }),
    );
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(
  aws: Pick<AwsPorts, 'stores' | 'callbacks' | 'deployer' | 'alarms' | 'clock' | 'config' | 'events'>,
) {
  const stores = aws.stores();
  return createHandler({
    ...finishDeploymentPorts(aws),
    watches: aws.stores().bakeWatches,
    approvals: aws.stores().approvals,
    pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
    reconcileSeconds: aws.config.UPSHIFT_RECONCILE_SECONDS,
    // Promotion waves' soaks (docs/waves.md): it publishes the next stage on the Upshift bus.
    promotion: {
      waves: stores.waves,
      catalog: stores.catalog,
      workflows: stores.workflows,
      registry: stores.registry,
      events: aws.events(),
      alarms: aws.alarms(),
      clock: aws.clock,
    },
  });
}

export const handler = wire(
  withClients(awsBase(), dynamoPorts, deployerPorts, alarmPorts, callbackPorts, eventPorts),
);
