import { SFNClient } from '@aws-sdk/client-sfn';
import { type AwsBase, once } from './ports';
import { StepFunctionsCallbacks } from './sfn-callbacks';

/** The task-token callbacks that resume a waiting execution. */
export function callbackPorts(base: AwsBase) {
  return { callbacks: once(() => new StepFunctionsCallbacks(base.client(SFNClient))) };
}
