import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { CatalogStore } from '../../shared/ports';
import { type FinishBakePorts, finishBake } from '../../shared/usecases/finish-waits';
import { targetOfRequest } from '../../shared/usecases/resolve-event';

export interface StartBakePorts extends FinishBakePorts {
  catalog: CatalogStore;
}

/**
 * StartBake: called with a task token once 100% of traffic is on the new version.
 * 1. register a watch on the component's alarms (as Intake resolved them) until the end of the
 *    bake: the watch and its alarm links in one batch; 2. record that the bake watches (a wait, so
 *    written now); 3. look once: an alarm already in ALARM, or a zero-minute bake, ends it at once.
 * Then an alarm entering ALARM ends it (the event), or the reconciler when the time is up.
 */
export async function startBake(
  input: {
    taskToken: string;
    workflowId: string;
    request: UpgradeRequest;
    decision: { bakeMinutes: number };
  },
  ports: StartBakePorts,
): Promise<{ until: string }> {
  const { request } = input;
  const { alarmNames } = await targetOfRequest(request, ports.catalog);
  const now = ports.clock.now();
  const until = new Date(now.getTime() + input.decision.bakeMinutes * 60_000).toISOString();
  const watch = {
    workflowId: input.workflowId,
    component: request.component,
    environment: request.environment,
    alarmNames,
    until,
    status: 'PENDING' as const,
  };
  await ports.watches.register(watch, input.taskToken);
  await ports.workflows.append(input.workflowId, {
    stage: 'Bake',
    at: now.toISOString(),
    status: 'WATCHING',
    detail: `watching ${alarmNames.length} alarms until ${until}`,
  });
  const firing = alarmNames.length
    ? (await ports.alarms.describe(alarmNames)).some((s) => s.state === 'ALARM')
    : false;
  if (firing || input.decision.bakeMinutes === 0)
    await finishBake({ workflowId: input.workflowId }, ports, watch);
  return { until };
}
