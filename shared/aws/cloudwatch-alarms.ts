import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmReader, AlarmState } from '../ports';
import { awsDependencyError } from './errors';

export class CloudWatchAlarmReader implements AlarmReader {
  constructor(private readonly client: CloudWatchClient) {}

  async describe(names: readonly string[]): Promise<AlarmState[]> {
    const out: AlarmState[] = [];
    // DescribeAlarms takes at most 100 names per call.
    for (let i = 0; i < names.length; i += 100) {
      try {
        const page = await this.client.send(
          new DescribeAlarmsCommand({
            AlarmNames: names.slice(i, i + 100),
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          }),
        );
        for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          out.push({
            name: a.AlarmName ?? '',
            state: (a.StateValue ?? 'INSUFFICIENT_DATA') as AlarmState['state'],
            reason: a.StateReason ?? '',
            updatedAt: (a.StateUpdatedTimestamp ?? new Date(0)).toISOString(),
          });
        }
      } catch (error) {
        throw awsDependencyError('CloudWatch DescribeAlarms', error);
      }
    }
    return out;
  }
}
