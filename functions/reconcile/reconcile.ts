import type { ApprovalStore, BakeWatchStore } from '../../shared/ports';
import { expireApprovals } from '../../shared/usecases/expire-approvals';
import {
  answerAgain,
  type FinishBakePorts,
  type FinishDeploymentPorts,
  finishBake,
  finishDeploymentWait,
} from '../../shared/usecases/finish-waits';

export interface ReconcilePorts extends FinishDeploymentPorts {
  approvals: ApprovalStore;
  watches: BakeWatchStore;
  pollSeconds: number;
  /** How often one deployment is polled; events do the fast path. */
  reconcileSeconds: number;
}

/**
 * The reconciler, on a schedule: nothing waits for ever, even when an event is lost.
 * 1. each deployment wait not polled for `reconcileSeconds`: GetDeployment; past its deadline,
 *    StopDeployment with rollback; an ended deployment resumes its execution;
 * 2. each bake whose time is up: a final DescribeAlarms, then PASSED or ALARM;
 * 3. approvals past their timeout: EXPIRED;
 * 4. waits, bakes and approvals decided but perhaps never answered: answered again, then closed.
 */
export async function reconcile(
  ports: ReconcilePorts,
): Promise<{ deployments: number; bakes: number; approvals: number }> {
  const now = ports.clock.now();
  let deployments = 0;
  for (const wait of await ports.waits.listPending(100)) {
    if (wait.status === 'ANSWERING') {
      if (await answerAgain(ports.waits, wait.deploymentId, ports)) deployments++;
      continue;
    }
    if (wait.lastPolledAt && now.getTime() - Date.parse(wait.lastPolledAt) < ports.reconcileSeconds * 1000)
      continue;
    await ports.waits.markPolled(wait.deploymentId, now.toISOString());
    if (now.getTime() > Date.parse(wait.deadline)) {
      const info = await ports.deployer.getDeployment(wait.deploymentId);
      if (
        info.status === 'InProgress' ||
        info.status === 'Created' ||
        info.status === 'Queued' ||
        info.status === 'Ready'
      ) {
        await ports.deployer.stopDeployment(wait.deploymentId, true);
      }
    }
    if ((await finishDeploymentWait({ deploymentId: wait.deploymentId, via: 'reconciler' }, ports)).resumed)
      deployments++;
  }
  let bakes = 0;
  const bakePorts: FinishBakePorts = { ...ports, watches: ports.watches };
  for (const watch of await ports.watches.listPending(100)) {
    if (watch.status === 'ANSWERING') {
      if (await answerAgain(ports.watches, watch.workflowId, ports)) bakes++;
      continue;
    }
    if (Date.parse(watch.until) > now.getTime()) continue;
    if (await finishBake({ workflowId: watch.workflowId }, bakePorts, watch)) bakes++;
  }
  const { expired, answered } = await expireApprovals(ports);
  return { deployments, bakes, approvals: expired.length + answered.length };
}
