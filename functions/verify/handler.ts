import { awsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type VerifyPorts, verify } from './verify';

export const inputSchema = stepBase;

export function createHandler(ports: VerifyPorts) {
  return stepHandler('Verify', inputSchema, (input) => verify(input, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  policies: aws.stores().policies,
  prober: aws.prober(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
