import type { AlarmReader, Clock, Deployer, TaskCallbacks } from '../ports';
import type { AwsEnv } from '../runtime/config';
import type { Stores } from './dynamo-store';

/** The ports a handler asks for by name: each service's ports come from its `*-clients.ts` module. */
export interface PortsSource {
  config: AwsEnv;
  clock: Clock;
  stores(): Stores;
  deployer(): Deployer;
  alarms(): AlarmReader;
  callbacks(): TaskCallbacks;
}

/** The ports that resume an execution waiting for a deployment (several handlers need them). */
export function finishDeploymentPorts(
  aws: Pick<PortsSource, 'stores' | 'callbacks' | 'deployer' | 'alarms' | 'clock'>,
) {
  return {
    waits: aws.stores().deploymentWaits,
    callbacks: aws.callbacks(),
    workflows: aws.stores().workflows,
    catalog: aws.stores().catalog,
    deployer: aws.deployer(),
    alarms: aws.alarms(),
    clock: aws.clock,
  };
}

/** The ports that end a bake and resume its execution. */
export function finishBakePorts(
  aws: Pick<PortsSource, 'stores' | 'callbacks' | 'alarms' | 'clock' | 'config'>,
) {
  return {
    watches: aws.stores().bakeWatches,
    alarms: aws.alarms(),
    callbacks: aws.callbacks(),
    workflows: aws.stores().workflows,
    clock: aws.clock,
    pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
  };
}
