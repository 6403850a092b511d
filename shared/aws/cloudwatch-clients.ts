import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchAlarmReader } from './cloudwatch-alarms';
import { type AwsBase, once } from './ports';

/** The alarm reader (DescribeAlarms). */
export function alarmPorts(base: AwsBase) {
  return { alarms: once(() => new CloudWatchAlarmReader(base.client(CloudWatchClient))) };
}
