import { z } from 'zod';
import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { finishBakePorts } from '../../shared/aws/port-sets';
import { awsBase, withClients } from '../../shared/aws/ports';
import { callbackPorts } from '../../shared/aws/sfn-clients';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type StartBakePorts, startBake } from './start-bake';

export const inputSchema = stepBase.extend({
  taskToken: z.string().min(1).max(2048),
  decision: z.object({ bakeMinutes: z.number().int().min(0) }),
});

export function createHandler(ports: StartBakePorts) {
  return stepHandler('StartBake', inputSchema, (input) => startBake(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'alarms' | 'callbacks' | 'clock' | 'config'>) {
  return createHandler({ ...finishBakePorts(aws), catalog: aws.stores().catalog });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, alarmPorts, callbackPorts));
