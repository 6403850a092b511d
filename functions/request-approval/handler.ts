import { z } from 'zod';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { decisionSchema, stepBase, verificationSchema } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type RequestApprovalPorts, requestApproval } from './request-approval';

/** The console's base URL for the notification's link (the stack's API; `upshift up` sets its own). */
const consoleUrl = z
  .url()
  .optional()
  .parse(process.env.UPSHIFT_CONSOLE_URL || undefined);

export const inputSchema = stepBase.extend({
  taskToken: z.string().min(1).max(2048),
  decision: decisionSchema,
  verification: verificationSchema,
});

export function createHandler(ports: RequestApprovalPorts) {
  return stepHandler('RequestApproval', inputSchema, (input) => requestApproval(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'events' | 'ids' | 'clock'>) {
  return createHandler({
    approvals: aws.stores().approvals,
    locks: aws.stores().locks,
    events: aws.events(),
    workflows: aws.stores().workflows,
    ids: aws.ids,
    clock: aws.clock,
    consoleUrl,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, eventPorts));
