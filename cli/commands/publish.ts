import { defaultEnvironment, targetFor } from '../../shared/domain/catalog';
import * as published from '../../shared/domain/events/version-published';
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
  const findMine = async () => (await ws.stores.workflows.list(20)).find((r) => r.eventId === eventId);
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
