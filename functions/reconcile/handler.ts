import middy from '@middy/core';
import { type AwsPorts, awsPorts, finishDeploymentPorts } from '../../shared/aws/wiring';
import { stepLogging } from '../../shared/runtime/middleware';
import { type ReconcilePorts, reconcile } from './reconcile';

/** Runs on a schedule (every minute); see reconcile.ts. */
export function createHandler(ports: ReconcilePorts) {
  return middy()
    .use(stepLogging('Reconcile'))
    .handler(() => reconcile(ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: AwsPorts) {
  return createHandler({
    ...finishDeploymentPorts(aws),
    watches: aws.stores().bakeWatches,
    approvals: aws.stores().approvals,
    pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
    reconcileSeconds: aws.config.UPSHIFT_RECONCILE_SECONDS,
  });
}

export const handler = wire(awsPorts());
