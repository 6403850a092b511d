import type { Artifact } from '../../shared/domain/events/artifact';
import { detailTypeForOutcome, source, version } from '../../shared/domain/events/upshift-events';
import type {
  BakeWatchStore,
  Clock,
  DedupeStore,
  Deployer,
  DeploymentWaitStore,
  EventPublisher,
  LockStore,
  RegistryStore,
  WorkflowStore,
} from '../../shared/ports';
import { dedupeKey } from '../intake/intake';
import { lockKey } from '../lock/lock';

export interface ExecutionEndedPorts {
  workflows: WorkflowStore;
  registry: RegistryStore;
  locks: LockStore;
  dedupe: DedupeStore;
  waits: DeploymentWaitStore;
  watches: BakeWatchStore;
  deployer: Deployer;
  events: EventPublisher;
  clock: Clock;
}

export interface ExecutionEnded {
  workflowId: string;
  status: string;
  error?: string | null;
  cause?: string | null;
  /** The execution's input as Step Functions reports it (the event a rule delivered), if any. */
  input?: string | null;
}

/**
 * An execution that ended before Intake wrote its record (killed, aborted or timed out in its
 * first step) may still hold the dedupe claim Intake takes first. The event it was started with
 * names the claim; the record is written FAILED so the end is visible.
 */
async function recordLostBeforeIntake(input: ExecutionEnded, ports: ExecutionEndedPorts) {
  let detail: Record<string, unknown> = {};
  try {
    const event = JSON.parse(input.input ?? 'null') as { detail?: unknown } | null;
    if (event?.detail && typeof event.detail === 'object') detail = event.detail as Record<string, unknown>;
  } catch {
    // Not JSON: nothing to release.
  }
  const text = (key: string) => (typeof detail[key] === 'string' ? (detail[key] as string) : undefined);
  const [component, environment, version] = [text('component'), text('environment'), text('version')];
  if (component && environment && version) {
    await ports.dedupe.release(dedupeKey(component, environment, version), input.workflowId);
  }
  const at = ports.clock.now().toISOString();
  const reasons = [
    {
      code: `EXECUTION_${input.status}`,
      message: `the execution ended ${input.status.toLowerCase().replace('_', ' ')} before Intake recorded it${
        input.cause ? ` (${String(input.cause).slice(0, 500)})` : ''
      }`,
    },
  ];
  await ports.workflows.create({
    workflowId: input.workflowId,
    status: 'RUNNING',
    reasons: [],
    ...(component ? { component } : {}),
    ...(environment ? { environment } : {}),
    ...(version ? { version } : {}),
    startedAt: at,
    history: [],
    evidence: {},
  });
  await ports.workflows.finish(input.workflowId, { outcome: 'FAILED', reasons, at });
  return { closed: true as const, reasons };
}

interface DeploymentEvidence {
  version?: string;
  deploymentId?: string;
  artifact?: Artifact;
}

/**
 * The version the workflow's deployments left serving, if they changed it: a later revert that
 * succeeded wins over the upgrade; a deployment still running is stopped with rollback first.
 */
async function settleDeployments(
  evidence: Record<string, unknown>,
  ports: Pick<ExecutionEndedPorts, 'deployer'>,
): Promise<{ stillRuns: boolean; version?: string; artifact: Artifact; deploymentId?: string }> {
  const request = evidence.request as
    | { version?: string; artifact?: Artifact; currentVersion?: string }
    | undefined;
  let stillRuns = false;
  let result: { version?: string; artifact?: Artifact; deploymentId?: string } = {};
  for (const key of ['deployment', 'revert'] as const) {
    const d = evidence[key] as DeploymentEvidence | undefined;
    if (!d?.deploymentId) continue;
    let info = await ports.deployer.getDeployment(d.deploymentId);
    if (running.has(info.status)) {
      const stop = await ports.deployer.stopDeployment(d.deploymentId, true);
      if (stop.status !== 'Succeeded') stillRuns = true;
      info = await ports.deployer.getDeployment(d.deploymentId);
    }
    if (info.status === 'Succeeded') {
      const artifact = d.artifact ?? (key === 'deployment' ? request?.artifact : undefined);
      if (d.version && artifact) result = { version: d.version, artifact, deploymentId: d.deploymentId };
    }
  }
  return { stillRuns, ...result, artifact: result.artifact as Artifact };
}

/** Deployment statuses in which CodeDeploy may still move traffic. */
const running = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);

/**
 * An execution ended without reaching Record (failed outside every Catch, timed out, aborted, or
 * lost with a local process): nothing else would ever close its record, claim or lock.
 * 1. a record already terminal: nothing to do (Record ran);
 * 2. close what it waited on (deployment waits, bake watches); a deployment it started that still
 *    runs is stopped with rollback; one that finished makes the registry name what serves;
 * 3. record FAILED with the execution's status and cause, and emit Upgrade Failed;
 * 4. release the dedupe claim, so the version can be published again, and the lock, unless a
 *    deployment could not be stopped (then the lease runs out, as decision 0014 keeps it).
 */
export async function closeEndedExecution(input: ExecutionEnded, ports: ExecutionEndedPorts) {
  const record = await ports.workflows.get(input.workflowId);
  if (!record) return recordLostBeforeIntake(input, ports);
  if (record.outcome) return { closed: false as const };
  const at = ports.clock.now().toISOString();
  let deploymentStillRuns = false;
  for (const wait of await ports.waits.listPending(1000)) {
    if (wait.workflowId !== input.workflowId) continue;
    await ports.waits.complete(wait.deploymentId, at);
  }
  // What the workflow's own deployments left serving: a deployment still moving traffic is stopped
  // with rollback (the old version serves again); one that finished made its version serve.
  const serving = await settleDeployments(record.evidence, ports);
  deploymentStillRuns = serving.stillRuns;
  if (serving.version && record.component && record.environment) {
    await ports.registry.markServing({
      component: record.component,
      environment: record.environment,
      version: serving.version,
      artifact: serving.artifact,
      ...(serving.deploymentId ? { deploymentId: serving.deploymentId } : {}),
      at,
    });
  }
  await ports.watches.complete(input.workflowId, at);
  const detail = [input.error, input.cause].filter(Boolean).join(': ');
  const reasons = [
    {
      code: `EXECUTION_${input.status}`,
      message: `the execution ended ${input.status.toLowerCase().replace('_', ' ')} before it recorded an outcome${
        detail ? ` (${detail.slice(0, 500)})` : ''
      }${deploymentStillRuns ? '; a deployment it started is still stopping, so its lock is kept until the lease ends' : ''}`,
    },
  ];
  await ports.workflows.finish(input.workflowId, { outcome: 'FAILED', reasons, at });
  // A record without a component ended before Intake resolved the event: nothing was claimed.
  const { component, environment, version: target } = record;
  if (component && environment && target) {
    await ports.dedupe.release(dedupeKey(component, environment, target), input.workflowId);
    if (!deploymentStillRuns) await ports.locks.release(lockKey(component, environment), input.workflowId);
  }
  await ports.events.publish([
    {
      source,
      detailType: detailTypeForOutcome('FAILED'),
      time: at,
      detail: {
        schemaVersion: version,
        workflowId: input.workflowId,
        outcome: 'FAILED',
        reasons,
        ...(component ? { component } : {}),
        ...(environment ? { environment } : {}),
        ...(target ? { version: target } : {}),
      },
    },
  ]);
  return { closed: true as const, reasons };
}
