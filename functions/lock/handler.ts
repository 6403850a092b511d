import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepHandler } from '../../shared/runtime/middleware';
import { type LockPorts, lock } from './lock';
import { inputSchema } from './schema';

export function createHandler(ports: LockPorts) {
  return stepHandler('Lock', inputSchema, (input) => lock(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'clock'>) {
  return createHandler({
    locks: aws.stores().locks,
    workflows: aws.stores().workflows,
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts));
