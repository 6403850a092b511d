import { z } from 'zod';
import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type DeployPorts, deploy } from './deploy';

export const inputSchema = stepBase.extend({
  decision: z.object({ deploymentConfig: z.string(), bakeMinutes: z.number().int().min(0) }),
  mode: z.enum(['upgrade', 'revert', 'rollback']),
});

export function createHandler(ports: DeployPorts) {
  return stepHandler('Deploy', inputSchema, (input) => deploy(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'deployer' | 'clock' | 'config'>) {
  return createHandler({
    catalog: aws.stores().catalog,
    registry: aws.stores().registry,
    deployer: aws.deployer(),
    locks: aws.stores().locks,
    workflows: aws.stores().workflows,
    clock: aws.clock,
    pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, deployerPorts));
