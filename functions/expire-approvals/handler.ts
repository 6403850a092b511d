import middy from '@middy/core';
import { awsPorts } from '../../shared/aws/wiring';
import { stepLogging } from '../../shared/runtime/middleware';
import { type ExpireApprovalsPorts, expireApprovals } from '../../shared/usecases/expire-approvals';

/** Runs on a schedule: ends the approvals whose policy timeout has passed. */
export function createHandler(ports: ExpireApprovalsPorts) {
  return middy()
    .use(stepLogging('ExpireApprovals'))
    .handler(() => expireApprovals(ports));
}

const aws = awsPorts();
export const handler = createHandler({
  approvals: aws.stores().approvals,
  callbacks: aws.callbacks(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
