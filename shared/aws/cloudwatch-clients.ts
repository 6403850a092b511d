import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchAlarmReader } from './cloudwatch-alarms';
import { type AwsBase, once } from './ports';
import { RoutedAlarmReader, TargetClients } from './target-clients';

/** The alarm reader (DescribeAlarms); alarms of a target in another account are read there, as its role. */
export function alarmPorts(base: AwsBase) {
  const targets = once(() => new TargetClients(base));
  return {
    alarms: once(
      () =>
        new RoutedAlarmReader(
          new CloudWatchAlarmReader(base.client(CloudWatchClient)),
          async (location) =>
            new CloudWatchAlarmReader(await targets().client(CloudWatchClient, location, undefined)),
        ),
    ),
  };
}
