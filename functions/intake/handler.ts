import { z } from 'zod';
import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import { callbackPorts } from '../../shared/aws/sfn-clients';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepHandler } from '../../shared/runtime/middleware';
import { type IntakePorts, intake } from './intake';

export const inputSchema = z.object({ event: z.unknown(), workflowId: z.string().min(1) });

export function createHandler(ports: IntakePorts) {
  return stepHandler('Intake', inputSchema, (input) => intake(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(
  aws: Pick<AwsPorts, 'stores' | 'deployer' | 'alarms' | 'callbacks' | 'events' | 'clock'>,
) {
  return createHandler({
    catalog: aws.stores().catalog,
    deployer: aws.deployer(),
    waits: aws.stores().deploymentWaits,
    watches: aws.stores().bakeWatches,
    alarms: aws.alarms(),
    callbacks: aws.callbacks(),
    registry: aws.stores().registry,
    dedupe: aws.stores().dedupe,
    workflows: aws.stores().workflows,
    events: aws.events(),
    policies: aws.stores().policies,
    clock: aws.clock,
  });
}

export const handler = wire(
  withClients(awsBase(), dynamoPorts, deployerPorts, alarmPorts, callbackPorts, eventPorts),
);
