import { alarmPorts } from './cloudwatch-clients';
import { deployerPorts } from './codedeploy-clients';
import { dynamoPorts } from './dynamodb-clients';
import { eventPorts } from './eventbridge-clients';
import { type AwsPortOptions, awsBase, withClients } from './ports';
import { proberPorts } from './probe-clients';
import { evidencePorts } from './s3-clients';
import { callbackPorts } from './sfn-clients';

export { finishBakePorts, finishDeploymentPorts } from './port-sets';
export type { AwsPortOptions } from './ports';

/**
 * The AWS side of every port, for callers that may need any of them (the local twin, the CLI).
 * Each client is still made on first use. A Lambda handler does not import this module: it
 * composes only the services it calls (`withClients(awsBase(), dynamoPorts, ...)`), so its bundle
 * holds only those SDK clients (docs/decisions/0019-lean-functions.md).
 */
export function awsPorts(env: NodeJS.ProcessEnv = process.env, options: AwsPortOptions = {}) {
  return withClients(
    awsBase(env, options),
    dynamoPorts,
    deployerPorts,
    alarmPorts,
    proberPorts,
    evidencePorts,
    eventPorts,
    callbackPorts,
  );
}

export type AwsPorts = ReturnType<typeof awsPorts>;
