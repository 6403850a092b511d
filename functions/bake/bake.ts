import { alarmName } from '../../shared/domain/catalog';
import { NotFound } from '../../shared/domain/errors';
import type { BakeResult } from '../../shared/domain/steps';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { AlarmReader, CatalogStore, Clock, WorkflowStore } from '../../shared/ports';

export interface BakePorts {
  catalog: CatalogStore;
  alarms: AlarmReader;
  workflows: WorkflowStore;
  clock: Clock;
  pollSeconds: number;
}

/**
 * Bake: after 100% of traffic has shifted, keep watching the alarms for the policy's bake
 * minutes, which CodeDeploy cannot do after success.
 * 1. on the first call, fix the end of the bake;
 * 2. read the alarms: any in ALARM ends the bake as ALARM, naming it;
 * 3. past the end with no alarm: PASSED; otherwise BAKING, with the next poll.
 */
export async function bake(
  input: {
    workflowId: string;
    request: UpgradeRequest;
    decision: { bakeMinutes: number };
    bake?: { until?: string };
  },
  ports: BakePorts,
): Promise<BakeResult> {
  const { request } = input;
  const now = ports.clock.now();
  const until =
    input.bake?.until ?? new Date(now.getTime() + input.decision.bakeMinutes * 60_000).toISOString();
  const component = await ports.catalog.getComponent(request.component);
  if (!component) throw new NotFound(`component ${request.component} is no longer in the catalog`);
  const names = component.alarms.map((a) => alarmName(request.component, request.environment, a.id));
  const firing = names.length ? (await ports.alarms.describe(names)).filter((s) => s.state === 'ALARM') : [];
  const remainingSeconds = Math.ceil((Date.parse(until) - now.getTime()) / 1000);

  let result: BakeResult;
  if (firing[0]) {
    const alarm = { name: firing[0].name, reason: firing[0].reason, at: firing[0].updatedAt };
    result = { status: 'ALARM', until, pollSeconds: ports.pollSeconds, alarm };
  } else if (remainingSeconds <= 0) {
    result = { status: 'PASSED', until, pollSeconds: ports.pollSeconds };
  } else {
    result = {
      status: 'BAKING',
      until,
      pollSeconds: Math.max(1, Math.min(ports.pollSeconds, remainingSeconds)),
    };
  }
  if (result.status !== 'BAKING' || !input.bake?.until) {
    await ports.workflows.append(input.workflowId, {
      stage: 'Bake',
      at: now.toISOString(),
      status: result.status,
      detail:
        result.status === 'ALARM'
          ? `alarm ${result.alarm?.name} in ALARM: ${result.alarm?.reason}`
          : result.status === 'PASSED'
            ? `no alarm for ${input.decision.bakeMinutes} min`
            : `watching ${names.length} alarms until ${until}`,
    });
  }
  return result;
}
