import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import * as execution from '../../shared/domain/events/sfn-execution-status';
import { stepHandler } from '../../shared/runtime/middleware';
import { closeEndedExecution, type ExecutionEndedPorts } from './execution-ended';

/**
 * The rule on `Step Functions Execution Status Change` (FAILED, TIMED_OUT, ABORTED) of the
 * upgrade state machine: closes what the execution left open.
 */
export function createHandler(ports: ExecutionEndedPorts) {
  return stepHandler('ExecutionEnded', execution.schema, (event) =>
    closeEndedExecution(
      {
        workflowId: event.detail.name,
        status: event.detail.status,
        ...(event.detail.error ? { error: event.detail.error } : {}),
        ...(event.detail.cause ? { cause: event.detail.cause } : {}),
        ...(typeof event.detail.input === 'string' ? { input: event.detail.input } : {}),
      },
      ports,
    ),
  );
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'deployer' | 'events' | 'clock'>) {
  return createHandler({
    workflows: aws.stores().workflows,
    registry: aws.stores().registry,
    locks: aws.stores().locks,
    dedupe: aws.stores().dedupe,
    waits: aws.stores().deploymentWaits,
    watches: aws.stores().bakeWatches,
    deployer: aws.deployer(),
    events: aws.events(),
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, deployerPorts, eventPorts));
