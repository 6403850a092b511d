import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type BakeCheckPorts, finalBakeCheck } from './bake';

export const inputSchema = stepBase;

export function createHandler(ports: BakeCheckPorts) {
  return stepHandler('FinalBakeCheck', inputSchema, (input) => finalBakeCheck(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'alarms' | 'clock' | 'config'>) {
  return createHandler({
    catalog: aws.stores().catalog,
    alarms: aws.alarms(),
    watches: aws.stores().bakeWatches,
    workflows: aws.stores().workflows,
    clock: aws.clock,
    pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, alarmPorts));
