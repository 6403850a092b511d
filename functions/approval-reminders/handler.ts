import middy from '@middy/core';
import { z } from 'zod';
import { type AwsPorts, awsPorts } from '../../shared/aws/wiring';
import { stepLogging } from '../../shared/runtime/middleware';
import { type RemindApprovalsPorts, remindApprovals } from '../../shared/usecases/expire-approvals';

/** The console's base URL for the reminder's link (the stack's API; `upshift up` sets its own). */
const consoleUrl = z
  .url()
  .optional()
  .parse(process.env.UPSHIFT_CONSOLE_URL || undefined);

/** Runs on a schedule: one reminder per pending approval before it expires (remindApprovals). */
export function createHandler(ports: RemindApprovalsPorts) {
  return middy()
    .use(stepLogging('ApprovalReminders'))
    .handler(() => remindApprovals(ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: AwsPorts) {
  return createHandler({
    approvals: aws.stores().approvals,
    workflows: aws.stores().workflows,
    events: aws.events(),
    clock: aws.clock,
    consoleUrl,
  });
}

export const handler = wire(awsPorts());
