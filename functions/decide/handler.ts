import { z } from 'zod';
import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepBase, verificationSchema } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type DecidePorts, decide } from './decide';

export const inputSchema = stepBase.extend({
  verification: verificationSchema,
  deferrals: z.number().int().min(0).default(0),
  approval: z.object({ approved: z.boolean().optional(), by: z.string().optional() }).default({}),
});

export function createHandler(ports: DecidePorts) {
  return stepHandler('Decide', inputSchema, (input) => decide(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'alarms' | 'events' | 'clock'>) {
  return createHandler({
    catalog: aws.stores().catalog,
    policies: aws.stores().policies,
    registry: aws.stores().registry,
    alarms: aws.alarms(),
    events: aws.events(),
    workflows: aws.stores().workflows,
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, alarmPorts, eventPorts));
