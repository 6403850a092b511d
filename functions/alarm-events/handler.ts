import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { finishBakePorts } from '../../shared/aws/port-sets';
import { awsBase, withClients } from '../../shared/aws/ports';
import { callbackPorts } from '../../shared/aws/sfn-clients';
import type { AwsPorts } from '../../shared/aws/wiring';
import * as alarm from '../../shared/domain/events/alarm-state-change';
import { stepHandler } from '../../shared/runtime/middleware';
import { upshiftMetrics } from '../../shared/runtime/observability';
import { type FinishBakePorts, finishBake } from '../../shared/usecases/finish-waits';

/**
 * The rule on `CloudWatch Alarm State Change` into ALARM: ends the bake watching that alarm at
 * once, so the revert starts within seconds. Alarms nobody bakes on are ignored.
 */
export function createHandler(ports: FinishBakePorts) {
  return stepHandler('AlarmEvents', alarm.schema, async (event) => {
    if (event.detail.state.value !== 'ALARM') return { handled: false };
    const watch = await ports.watches.findByAlarm(event.detail.alarmName);
    if (!watch) return { handled: false };
    const at = event.detail.state.timestamp.replace(/\+0000$/, 'Z');
    const result = await finishBake(
      {
        workflowId: watch.workflowId,
        alarm: { name: event.detail.alarmName, reason: event.detail.state.reason, at },
      },
      ports,
      watch,
    );
    // From the alarm's own transition to the bake being ended: Upshift's reaction time.
    if (result) upshiftMetrics.reactionTime(ports.clock.now().getTime() - Date.parse(at));
    return { handled: !!result };
  });
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'alarms' | 'callbacks' | 'clock' | 'config'>) {
  return createHandler(finishBakePorts(aws));
}

export const handler = wire(withClients(awsBase(), dynamoPorts, alarmPorts, callbackPorts));
