import type { BakeResult } from '../../shared/domain/steps';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { AlarmReader, BakeWatchStore, CatalogStore, Clock, WorkflowStore } from '../../shared/ports';
import { targetOfRequest } from '../../shared/usecases/resolve-event';

export interface BakeCheckPorts {
  catalog: CatalogStore;
  alarms: AlarmReader;
  watches: BakeWatchStore;
  workflows: WorkflowStore;
  clock: Clock;
  pollSeconds: number;
}

/**
 * FinalBakeCheck: the fallback when the bake's callback timed out (no event and no reconciler
 * answered). One DescribeAlarms decides: any alarm in ALARM reverts, none completes. The watch is
 * closed so a late event cannot answer a finished task.
 */
export async function finalBakeCheck(
  input: { workflowId: string; request: UpgradeRequest },
  ports: BakeCheckPorts,
): Promise<BakeResult> {
  const { request } = input;
  const now = ports.clock.now().toISOString();
  const { alarmNames: names } = await targetOfRequest(request, ports.catalog);
  const firing = names.length
    ? (await ports.alarms.describe(names)).find((s) => s.state === 'ALARM')
    : undefined;
  await ports.watches.complete(input.workflowId, now);
  const result: BakeResult = firing
    ? {
        status: 'ALARM',
        until: now,
        pollSeconds: ports.pollSeconds,
        alarm: { name: firing.name, reason: firing.reason, at: firing.updatedAt },
      }
    : { status: 'PASSED', until: now, pollSeconds: ports.pollSeconds };
  await ports.workflows.append(input.workflowId, {
    stage: 'Bake',
    at: now,
    status: result.status,
    detail: firing ? `final check: alarm ${firing.name} in ALARM` : 'final check: no alarm in ALARM',
  });
  return result;
}
