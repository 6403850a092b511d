import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import { proberPorts } from '../../shared/aws/probe-clients';
import { evidencePorts } from '../../shared/aws/s3-clients';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type VerifyPorts, verify } from './verify';

export const inputSchema = stepBase;

export function createHandler(ports: VerifyPorts) {
  return stepHandler('Verify', inputSchema, (input) => verify(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'prober' | 'httpProber' | 'evidence' | 'clock'>) {
  return createHandler({
    catalog: aws.stores().catalog,
    policies: aws.stores().policies,
    prober: aws.prober(),
    httpProber: aws.httpProber(),
    evidence: aws.evidence(),
    workflows: aws.stores().workflows,
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, proberPorts, evidencePorts));
