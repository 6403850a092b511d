import {
  detailTypeForOutcome,
  type Outcome,
  type Reason,
  source,
  version,
} from '../../shared/domain/events/upshift-events';
import { describeShadowPlan, type ShadowPlan, shadowPlan } from '../../shared/domain/shadow';
import { retryableOutcomes, type UpgradeRequest, type WorkflowRecord } from '../../shared/domain/workflow';
import type {
  Clock,
  DedupeStore,
  EventPublisher,
  LockStore,
  RegistryStore,
  WorkflowStore,
} from '../../shared/ports';
import { MANUAL_ROLLBACK_ALARM } from '../../shared/usecases/finish-waits';
import type { DeployIntent } from '../deploy/deploy';
import { dedupeKey } from '../intake/intake';
import { lockKey } from '../lock/lock';
import type { RecordState } from './schema';

export interface RecordPorts {
  registry: RegistryStore;
  locks: LockStore;
  dedupe: DedupeStore;
  workflows: WorkflowStore;
  events: EventPublisher;
  clock: Clock;
}

/** The reasons for an outcome, from what the workflow gathered on its way. */
export function explainOutcome(
  state: RecordState,
  manualRollback?: { by: string; reason: string },
): Reason[] {
  const { terminal } = state;
  if (terminal.stage === 'intake') return state.intake?.reasons ?? [];
  switch (terminal.outcome) {
    case 'SKIPPED':
      if (terminal.stage === 'superseded') {
        return [
          { code: 'SUPERSEDED', message: causeMessage(state.error?.Cause) || 'a newer version is in flight' },
        ];
      }
      return state.intake?.reasons ?? [];
    case 'IGNORED':
    case 'INVALID':
      return state.intake?.reasons ?? [];
    case 'FAILED': {
      const error = state.error;
      return [
        { code: error?.Error ?? 'FAILED', message: causeMessage(error?.Cause) || 'the workflow failed' },
      ];
    }
    case 'REJECTED':
      if (terminal.stage === 'approval') {
        const a = state.approval;
        return [
          {
            code: 'REJECTED_BY_APPROVER',
            message: `rejected by ${a?.by ?? 'an approver'}${a?.comment ? `: ${a.comment}` : ''}`,
          },
        ];
      }
      return state.decision?.reasons ?? [{ code: 'REJECTED', message: 'rejected by policy' }];
    case 'EXPIRED':
      if (terminal.stage === 'limits') return state.decision?.reasons ?? [];
      if (terminal.stage === 'lock') {
        return [{ code: 'LOCK_TIMEOUT', message: 'gave up waiting for the lock held by another upgrade' }];
      }
      return [
        {
          code: 'APPROVAL_TIMEOUT',
          message: `no approval within ${Math.round((state.decision?.approvalTimeoutSeconds ?? 0) / 60)} minutes`,
        },
      ];
    case 'ROLLED_BACK': {
      if (terminal.stage === 'manual') {
        const r = state.intake?.request;
        return [
          {
            code: 'MANUAL_ROLLBACK',
            message: `rolled back from ${r?.currentVersion ?? '?'} to ${r?.version ?? '?'} by ${state.revert?.deploymentId ?? 'a deployment'}, for ${
              r?.rollback?.requestedBy ?? 'someone'
            }: ${r?.rollback?.reason ?? ''}`,
          },
        ];
      }
      if (terminal.stage === 'bake') return [whyReverted(state, 'reverted to')];
      const s = state.deploymentStatus;
      const reasons: Reason[] = (s?.alarms ?? []).map((a) => ({
        code: 'ALARM',
        message: `alarm ${a.name} entered ALARM at ${a.at}: ${a.reason}`,
      }));
      if (manualRollback && s?.errorCode === 'MANUAL_STOP') {
        reasons.push({
          code: 'MANUAL_ROLLBACK',
          message: `stopped for ${manualRollback.by}: ${manualRollback.reason}`,
        });
      }
      reasons.unshift({
        code: `DEPLOYMENT_${(s?.status ?? 'FAILED').toUpperCase()}`,
        message: `deployment ${state.deployment?.deploymentId ?? ''} ${s?.status?.toLowerCase() ?? 'failed'}${
          s?.errorCode ? ` (${s.errorCode}: ${s.errorMessage ?? ''})` : ''
        }; CodeDeploy rolled traffic back${s?.rollbackDeploymentId ? ` with ${s.rollbackDeploymentId}` : ''}`,
      });
      return reasons;
    }
    case 'COMPLETED':
      return [
        {
          code: 'DEPLOYED',
          message: `${state.intake?.request?.version} deployed by ${state.deployment?.deploymentId} with ${state.deployment?.deploymentConfig}`,
        },
        ...(state.bake?.status === 'PASSED'
          ? [{ code: 'BAKED', message: `no alarm until ${state.bake.until}` }]
          : []),
      ];
    case 'DEFERRED':
      return state.decision?.reasons ?? [];
    case 'ROLLBACK_FAILED':
      return explainFailedRevert(state);
    case 'SHADOWED':
      return explainShadowed(state);
  }
}

/** Shadow mode (decision 0030): what a live run would have done, then the decision's own reasons. */
function explainShadowed(state: RecordState): Reason[] {
  const r = state.intake?.request;
  if (state.terminal.stage === 'rollback') {
    return [
      {
        code: 'SHADOWED',
        message: `shadow mode: would have rolled back ${r?.component ?? '?'} in ${r?.environment ?? '?'} from ${
          r?.currentVersion ?? '?'
        } to ${r?.version ?? '?'}, all at once, for ${r?.rollback?.requestedBy ?? 'someone'}: ${r?.rollback?.reason ?? ''}; nothing deployed`,
      },
    ];
  }
  const plan = planOf(state);
  return [{ code: 'SHADOWED', message: describeShadowPlan(plan) }, ...(state.decision?.reasons ?? [])];
}

/** The shadow plan from the decision in the execution state (the same one Decide recorded). */
function planOf(state: RecordState): ShadowPlan {
  const d = state.decision ?? {};
  const request = d.request ?? state.intake?.request;
  return shadowPlan(
    d,
    { version: request?.version ?? '?', currentVersion: request?.currentVersion },
    d.decidedAt ?? '',
  );
}

/** Why a bake was reverted: an alarm, or on-call asking for it. */
function whyReverted(state: RecordState, verb: string): Reason {
  const alarm = state.bake?.alarm;
  const to = `${verb} ${state.revert?.version ?? 'the last known-good version'}`;
  if (alarm?.name === MANUAL_ROLLBACK_ALARM) {
    return {
      code: 'MANUAL_ROLLBACK',
      message: `rollback requested during the bake by ${alarm.reason}; ${to}`,
    };
  }
  return {
    code: 'BAKE_ALARM',
    message: `alarm ${alarm?.name ?? 'unknown'} entered ALARM during the bake${alarm?.at ? ` at ${alarm.at}` : ''}; ${to}`,
  };
}

/** The version that serves after a failed revert: the one the revert started from (decision 0010). */
export function servingAfterFailedRevert(state: RecordState): string | undefined {
  const r = state.intake?.request;
  return r?.mode === 'rollback' ? r.currentVersion : r?.version;
}

function explainFailedRevert(state: RecordState): Reason[] {
  const r = state.intake?.request;
  const s = state.revertStatus;
  const ended = `${state.revert?.deploymentId ?? 'its deployment'} ended ${s?.status ?? 'Failed'}${
    s?.errorCode ? ` (${s.errorCode}: ${s.errorMessage ?? ''})` : ''
  }`;
  const serving = servingAfterFailedRevert(state) ?? 'the previous version';
  if (r?.mode === 'rollback') {
    return [
      {
        code: 'ROLLBACK_FAILED',
        message: `rollback from ${r.currentVersion ?? '?'} to ${r.version} for ${r.rollback?.requestedBy ?? 'someone'} failed: ${ended}; ${serving} still serves`,
      },
    ];
  }
  return [
    {
      code: 'ROLLBACK_FAILED',
      message: `revert of ${r?.version ?? '?'} to ${state.revert?.version ?? 'the last known-good version'} failed: ${ended}; ${serving} still serves and is not known good`,
    },
    whyReverted(state, 'tried to revert to'),
  ];
}

function causeMessage(cause: unknown): string {
  if (typeof cause !== 'string') return cause ? JSON.stringify(cause) : '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
}

/**
 * Record: ends every workflow, whatever path it took. Every write is idempotent, so the state
 * machine retries it whole (decision 0014).
 * 1. on COMPLETED, promote the version in the registry (a no-op when it already is current);
 * 2. release the lock and leave its queue, unless a deployment or bake this workflow started may
 *    still run (then the lease runs out, and the reasons say so);
 * 3. release the dedupe claim when the same version may be retried (or was superseded);
 * 4. finish the workflow record, its last line in the same write; 5. emit the outcome event.
 * With `fallback` (Record itself failed for good): skip the registry, end the record FAILED with
 * RECORD_FAILED and the outcome it was meant to have, release what can be released.
 * The record is read first only when the reasons need it (a failure: what may still run; a shift
 * rolled back: who asked); the queue is left only when the lock was not ours (decision 0018).
 */
export async function record(
  input: { workflowId: string; state: RecordState; fallback?: { Error: string; Cause?: unknown } },
  ports: RecordPorts,
): Promise<{ outcome: Outcome; reasons: Reason[] }> {
  const { state, workflowId, fallback } = input;
  const intended = state.terminal.outcome;
  const outcome: Outcome = fallback ? 'FAILED' : intended;
  const needsRecord =
    outcome === 'FAILED' || (intended === 'ROLLED_BACK' && state.terminal.stage === 'shift');
  const before = needsRecord ? await ports.workflows.get(workflowId) : undefined;
  const reasons = explainOutcome(
    state,
    before?.evidence.manualRollback as { by: string; reason: string } | undefined,
  );
  if (fallback) {
    reasons.unshift({
      code: 'RECORD_FAILED',
      message: `recording the outcome ${intended} failed: ${fallback.Error}${
        causeMessage(fallback.Cause) ? `: ${causeMessage(fallback.Cause)}` : ''
      }; the registry may not show it`,
    });
  }
  const now = ports.clock.now().toISOString();
  const request: UpgradeRequest | undefined = state.intake?.request;

  if (request) {
    if (!fallback) await updateRegistry(state, request, now, ports);
    const key = lockKey(request.component, request.environment);
    const running = outcome === 'FAILED' ? stillRunning(state, before) : undefined;
    // Holding the lock means not queued for it (Lock left the queue when it took it).
    let holding: boolean;
    if (running) {
      const lease = await ports.locks.get(key);
      holding = lease?.owner === workflowId;
      reasons.push({
        code: 'LOCK_KEPT',
        message: `${running}; the lock on ${key} is kept until its lease ends${
          holding ? ` at ${lease?.expiresAt}` : ''
        }`,
      });
    } else {
      holding = await ports.locks.release(key, workflowId);
    }
    if (!holding) await ports.locks.stopWaiting(key, workflowId);
    // A superseded version may be published again: it was never judged on its own.
    if (retryableOutcomes.includes(outcome) || state.terminal.stage === 'superseded') {
      await ports.dedupe.release(
        dedupeKey(request.component, request.environment, request.version),
        workflowId,
      );
    }
  }
  // A retried Record finds the record ended with this outcome and leaves it (its line once).
  const record = await ports.workflows.finish(workflowId, {
    outcome,
    reasons,
    at: now,
    history: [{ stage: 'Record', at: now, status: outcome, detail: reasons.map((r) => r.code).join(', ') }],
  });
  await ports.events.publish([
    {
      source,
      detailType: detailTypeForOutcome(outcome),
      time: now,
      detail: {
        schemaVersion: version,
        workflowId,
        outcome,
        reasons,
        ...(record?.component ? { component: record.component } : {}),
        ...(record?.environment ? { environment: record.environment } : {}),
        ...(record?.version ? { version: record.version } : {}),
        ...(outcome === 'SHADOWED' && state.terminal.stage !== 'rollback' ? { shadow: planOf(state) } : {}),
      },
    },
  ]);
  return { outcome, reasons };
}

/** The registry follows what serves: a completed upgrade or manual rollback, a failed revert. */
async function updateRegistry(
  state: RecordState,
  request: UpgradeRequest,
  now: string,
  ports: RecordPorts,
): Promise<void> {
  const outcome = state.terminal.outcome;
  if (outcome === 'COMPLETED' || (outcome === 'ROLLED_BACK' && state.terminal.stage === 'manual')) {
    const manual = state.terminal.stage === 'manual';
    const deploymentId = (manual ? state.revert : state.deployment)?.deploymentId;
    await ports.registry.promote({
      component: request.component,
      environment: request.environment,
      version: request.version,
      // The registry keeps what runs: a task definition revision, not the image it came from.
      artifact: (manual ? undefined : state.deployment?.artifact) ?? request.artifact,
      ...(deploymentId ? { deploymentId } : {}),
      at: now,
    });
  }
  if (outcome === 'ROLLBACK_FAILED' && request.mode === 'upgrade') {
    // The bad version still serves: the registry says so, and keeps the last known-good.
    await ports.registry.markServing({
      component: request.component,
      environment: request.environment,
      version: request.version,
      artifact: state.deployment?.artifact ?? request.artifact,
      ...(state.deployment?.deploymentId ? { deploymentId: state.deployment.deploymentId } : {}),
      at: now,
    });
  }
}

const endedStatuses = new Set(['Succeeded', 'Failed', 'Stopped']);

/**
 * What this workflow started that may still run when it fails: a deployment whose end it did not
 * see (or whose id it never recorded), or a bake it did not finish. Undefined when nothing does.
 */
export function stillRunning(state: RecordState, record: WorkflowRecord | undefined): string | undefined {
  const evidence = record?.evidence ?? {};
  const seen = { deployment: state.deploymentStatus?.status, revert: state.revertStatus?.status };
  for (const key of ['deployment', 'revert'] as const) {
    const intent = evidence[key] as DeployIntent | undefined;
    if (!intent || intent.refused) continue;
    if (!intent.deploymentId) {
      return `a ${key === 'deployment' ? 'deployment' : 'revert'} may have been created at ${intent.intentAt} and its id is unknown`;
    }
    if (!endedStatuses.has(seen[key] ?? '')) return `deployment ${intent.deploymentId} may still run`;
  }
  const history = record?.history ?? [];
  const watching = history.findLastIndex((h) => h.stage === 'Bake' && h.status === 'WATCHING');
  const baked = history.findLastIndex(
    (h) => h.stage === 'Bake' && (h.status === 'PASSED' || h.status === 'ALARM'),
  );
  if (watching >= 0 && baked < watching && !state.revert?.deploymentId) {
    return 'the bake of the new version had not ended';
  }
  return undefined;
}
