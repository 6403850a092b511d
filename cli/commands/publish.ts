import { defaultEnvironment, targetFor } from '../../shared/domain/catalog';
import * as published from '../../shared/domain/events/version-published';
import type { WorkflowRecord } from '../../shared/domain/workflow';
import type { WorkflowStore } from '../../shared/ports';
import type { AwsDeps } from '../aws/cli-api';
import { type Flags, str, UsageError } from './shared';
import { endOfWait, follow, printWorkflow, waitOptions } from './state';
import { openWorkspace, type Workspace } from './workspace';

/**
 * `upshift publish`: builds a Version Published event, puts it on the Upshift bus, and shows the
 * workflow it started. Locally the twin runs it to its end (with --state it keeps the stack); with
 * `--stack NAME` the event goes to the deployed stack's bus, as CI would send it, and the CLI
 * follows the workflow in the stack's table until it ends (`--timeout`, Ctrl-C).
 */
export async function publish(flags: Flags, out: (s: string) => void, deps: AwsDeps = {}): Promise<number> {
  const component = str(flags.component);
  const version = str(flags.version);
  if (!component || !version) throw new UsageError('publish: --component and --version are required');
  const wait = waitOptions(flags);
  const ws = await openWorkspace(flags, 'write', deps);
  try {
    const artifact = await artifactFor(ws, component, str(flags.env), str(flags['function-version']));
    const { eventId, bus } = await ws.putEvent(
      published.detailType,
      {
        component,
        version,
        ...(str(flags.env) ? { environment: str(flags.env) } : {}),
        artifact,
        labels: (flags.label as string[] | undefined) ?? [],
        publishedBy: await ws.actor(),
      },
      published.schema,
    );
    return await showStarted(ws, eventId, bus, flags, out, deps, wait);
  } finally {
    await ws.close();
  }
}

/**
 * The artifact of the published version: the Lambda function the catalog names for the
 * environment, at `--function-version`. Locally that defaults to 2 (the twin's demo functions
 * have it); on a deployed stack it is required, since only CI knows which version it published.
 */
async function artifactFor(
  ws: Workspace,
  name: string,
  environment: string | undefined,
  functionVersion: string | undefined,
) {
  const component = await ws.stores.catalog.getComponent(name);
  if (ws.kind === 'local') {
    const target = component ? targetFor(component, environment ?? defaultEnvironment(component)) : undefined;
    const functionName = target?.type === 'lambda' ? target.functionName : name;
    return { type: 'lambda' as const, functionName, functionVersion: functionVersion ?? '2' };
  }
  if (!component) throw new UsageError(`publish: no component "${name}" in the catalog of ${ws.where}`);
  const env = environment ?? defaultEnvironment(component);
  if (!Object.hasOwn(component.environments, env)) {
    throw new UsageError(
      `--env: ${name} has no environment "${env}" (it has ${Object.keys(component.environments).join(', ')})`,
    );
  }
  const target = targetFor(component, env);
  if (target.type !== 'lambda') {
    throw new UsageError(
      `publish --stack: ${name} is an ${target.type.toUpperCase()} target in ${env}; put its Version Published event with the artifact from CI (README, "Send an event from CI")`,
    );
  }
  if (!functionVersion) {
    throw new UsageError(
      `publish --stack: --function-version N is required: which published version of ${target.functionName} is ${name}`,
    );
  }
  return { type: 'lambda' as const, functionName: target.functionName, functionVersion };
}

/**
 * How much earlier than the CLI's clock a workflow may say it started (Intake stamps it with the
 * Lambda's clock): the listing since the publish starts this much before it.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** The listing's end: any start time. */
const ANY_TIME_AFTER = '9999-12-31T23:59:59.999Z';

/** Intake's skip of a second delivery (`DUPLICATE`, its first reason, recorded as it starts). */
const isDuplicateDelivery = (r: WorkflowRecord) => r.reasons[0]?.code === 'DUPLICATE';

/**
 * The workflow holding the version, as Intake's `DUPLICATE` reason records it (`holder`). Records
 * written before that field existed only name it in the message: the pattern reads those, and only
 * those (a fallback for old records; nothing new depends on the message's wording).
 */
function claimOwner(r: WorkflowRecord): string | undefined {
  const reason = r.reasons[0];
  if (reason?.holder) return reason.holder.workflowId;
  return /is already handled by (\S+)$/.exec(reason?.message ?? '')?.[1];
}

/**
 * The workflow an event started, by the event id Intake records, among every workflow started
 * since `since` (all pages of the listing, so a busy minute cannot hide it). EventBridge may
 * deliver one event twice: the second delivery is a workflow of its own, with the same event id,
 * that Intake skips as a `DUPLICATE`; the workflow that does the work is the one shown. When only
 * a duplicate is recorded so far, the workflow holding the version decides: started by this same
 * event, it is ours (not listed yet, or shown once recorded); started by another event, this
 * event's own workflow is the duplicate (the version was already in flight).
 */
export async function workflowOfEvent(
  workflows: WorkflowStore,
  eventId: string,
  since?: Date,
): Promise<WorkflowRecord | undefined> {
  const from = since ? { from: new Date(since.getTime() - CLOCK_SKEW_MS).toISOString() } : {};
  const mine = (await workflows.listStarted({ ...from, to: ANY_TIME_AFTER })).filter(
    (r) => r.eventId === eventId,
  );
  const own = mine.find((r) => !isDuplicateDelivery(r));
  const duplicate = mine[0];
  if (own || !duplicate) return own;
  const owner = claimOwner(duplicate);
  if (!owner) return duplicate;
  const holder = await workflows.get(owner);
  if (!holder) return undefined; // claimed, not recorded yet: the next poll reads it
  return holder.eventId === eventId ? holder : duplicate;
}

/**
 * Finds the workflow the event started (by the id PutEvents gave it, which Intake records) and
 * shows it: at its end locally; on a deployed stack after following it (each new history line as
 * it comes) until it ends or `--timeout MINUTES` passes (0: show it as soon as it is recorded).
 */
export async function showStarted(
  ws: Workspace,
  eventId: string,
  bus: string,
  flags: Flags,
  out: (s: string) => void,
  deps: AwsDeps,
  wait: ReturnType<typeof waitOptions>,
): Promise<number> {
  // The twin's clock is its own (a kept state, a sped-up clock): locally every workflow is read.
  const since = ws.live ? new Date() : undefined;
  const findMine = () => workflowOfEvent(ws.stores.workflows, eventId, since);
  if (!ws.live) {
    printWorkflow(await findMine(), flags, out, { evidence: false, execution: 'unknown' });
    return 0;
  }
  const progress = flags.json ? () => {} : out;
  progress(`put ${eventId} on bus ${bus} (${ws.where}); waiting for its workflow\n`);
  // Intake records the workflow within seconds of delivery; a minute without it is a fault.
  const found = await follow(
    ws,
    findMine,
    { intervalSeconds: wait.intervalSeconds, timeoutMinutes: 1 },
    () => {},
    deps,
  );
  const first = found.record;
  if (!first) {
    if (found.stopped === 'interrupted') return 130;
    throw new UsageError(
      `EventBridge took the event ${eventId}, but no workflow in ${ws.where} recorded it within a minute: look at the stack's dead-letter queue and the upgrade state machine's executions`,
    );
  }
  progress(`workflow ${first.workflowId}\n`);
  const read = () => ws.stores.workflows.get(first.workflowId);
  const followed = await follow(ws, read, wait, progress, deps, first);
  printWorkflow(followed.record ?? first, flags, out, { evidence: false });
  return endOfWait(followed, ws, first.workflowId, flags, out);
}
