import middy from '@middy/core';
import { awsPorts } from '../../shared/aws/wiring';
import { stepLogging } from '../../shared/runtime/middleware';
import { type ReconcilePorts, reconcile } from './reconcile';

/** Runs on a schedule (every minute); see reconcile.ts. */
export function createHandler(ports: ReconcilePorts) {
  return middy()
    .use(stepLogging('Reconcile'))
    .handler(() => reconcile(ports));
}

const aws = awsPorts();
export const handler = createHandler({
  waits: aws.stores().deploymentWaits,
  watches: aws.stores().bakeWatches,
  approvals: aws.stores().approvals,
  callbacks: aws.callbacks(),
  workflows: aws.stores().workflows,
  catalog: aws.stores().catalog,
  deployer: aws.deployer(),
  alarms: aws.alarms(),
  clock: aws.clock,
  pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
  reconcileSeconds: aws.config.UPSHIFT_RECONCILE_SECONDS,
});
