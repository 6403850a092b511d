import type { WorkflowRecord } from '../../shared/domain/workflow';
import type { AwsDeps } from '../aws/cli-api';
import { awsTargetOf } from '../aws/stack';
import { onStack } from '../aws/workspace';
import { type Flags, formatRecord, presentRecord, str, UsageError } from './shared';
import { openWorkspace, type Workspace } from './workspace';

/** Locally these commands read a saved state; on AWS the stack's table. */
export function requireStateOrStack(flags: Flags, command: string): void {
  if (!str(flags.state) && !awsTargetOf(flags)) {
    throw new UsageError(
      `${command}: --state DIR (the folder that run/publish --state wrote) or --stack NAME (a deployed stack) is required`,
    );
  }
}

/**
 * A read or write of the workspace; on a stack, AWS's refusals become one line naming `what`. The
 * stack's stores already turn a refusal into a line naming the store and the call
 * (cli/aws/workspace.ts); this names the command's own step instead, where that reads better.
 */
export function guarded<T>(ws: Workspace, flags: Flags, what: string, fn: () => Promise<T>): Promise<T> {
  const target = awsTargetOf(flags);
  return ws.kind === 'aws' && target ? onStack(target, what, fn) : fn();
}

/** `upshift status`: the registry per component and environment. */
export async function status(flags: Flags, out: (s: string) => void, deps: AwsDeps = {}): Promise<number> {
  requireStateOrStack(flags, 'status');
  const ws = await openWorkspace(flags, 'read', deps, ['state', 'at']);
  try {
    if (ws.kind === 'aws' && str(flags.catalog))
      throw new UsageError('--catalog and --stack exclude each other: the stack’s catalog is in its table');
    const rows = await statusRows(ws, str(flags.component));
    if (flags.json) out(`${JSON.stringify(rows, null, 2)}\n`);
    else {
      for (const r of rows) {
        out(
          `${r.component.padEnd(12)} ${r.environment.padEnd(12)} current ${String(r.current).padEnd(10)} previous ${String(
            r.previous ?? '-',
          ).padEnd(
            10,
          )} last-known-good ${r.lastKnownGood ?? '-'}${r.lockedBy ? `  locked by ${r.lockedBy}` : ''}\n`,
        );
      }
    }
    return 0;
  } finally {
    await ws.close();
  }
}

async function statusRows(ws: Workspace, wanted: string | undefined) {
  const components = await ws.components();
  const rows = [];
  for (const [name, component] of Object.entries(components)) {
    if (wanted && wanted !== name) continue;
    for (const env of Object.keys(component.environments)) {
      const entry = await ws.stores.registry.get(name, env);
      const lock = await ws.stores.locks.get(`${name}#${env}`);
      rows.push({
        component: name,
        environment: env,
        current: entry?.current.version ?? component.environments[env]?.baseline.version ?? null,
        previous: entry?.previous?.version ?? null,
        lastKnownGood: entry?.lastKnownGood.version ?? component.environments[env]?.baseline.version ?? null,
        lastUpgradeAt: entry?.lastUpgradeAt ?? null,
        lockedBy: lock && Date.parse(lock.expiresAt) > ws.now().getTime() ? lock.owner : null,
      });
    }
  }
  if (wanted && rows.length === 0) {
    throw new UsageError(
      `--component: "${wanted}" is not in the catalog${ws.kind === 'aws' ? ` of ${ws.where}` : ''}`,
    );
  }
  return rows;
}

/** `--limit N`: a whole number from 1 to 1000 (20 when absent). */
export function limitOf(flags: Flags): number {
  const limit = str(flags.limit) ? Number(str(flags.limit)) : 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError('--limit: expected a whole number from 1 to 1000');
  return limit;
}

/** `upshift workflows list|show ID|watch ID`. */
export async function workflows(
  args: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: AwsDeps = {},
): Promise<number> {
  requireStateOrStack(flags, 'workflows');
  const [sub, id] = args;
  if (sub !== 'list' && sub !== 'show' && sub !== 'watch')
    throw new UsageError('workflows: expected "list", "show ID" or "watch ID"');
  if ((sub === 'show' || sub === 'watch') && !id)
    throw new UsageError(`workflows ${sub}: expected a workflow id`);
  const limit = limitOf(flags);
  const wait = sub === 'watch' ? waitOptions(flags) : undefined;
  const ws = await openWorkspace(flags, 'read', deps, ['state', 'catalog', 'at']);
  try {
    if (sub === 'show' || sub === 'watch') {
      const read = () => ws.stores.workflows.get(id as string);
      const record = await read();
      if (!record) throw new UsageError(`no workflow "${id}" in ${ws.where}`);
      if (sub === 'watch') {
        const followed = await follow(
          ws,
          read,
          wait as WaitOptions,
          flags.json ? () => {} : out,
          deps,
          record,
        );
        printWorkflow(followed.record ?? record, flags, out, { evidence: true });
        return endOfWait(followed, ws, id as string, flags, out);
      }
      printWorkflow(record, flags, out, { evidence: true });
      return 0;
    }
    const records = await ws.stores.workflows.list(limit);
    if (flags.json)
      out(
        `${JSON.stringify(
          records.map((r) => presentRecord(r, { execution: r.workflowId })),
          null,
          2,
        )}\n`,
      );
    else {
      for (const r of records) {
        out(
          `${r.workflowId}  ${(r.outcome ?? r.status).padEnd(11)} ${r.component ?? '-'} ${r.version ?? '-'} ${r.environment ?? '-'}  ${r.startedAt}\n`,
        );
      }
    }
    return 0;
  } finally {
    await ws.close();
  }
}

/** A workflow as `show` prints it: the record (with its evidence in --json), or the text form. */
export function printWorkflow(
  record: WorkflowRecord | undefined,
  flags: Flags,
  out: (s: string) => void,
  options: { evidence: boolean; execution?: string },
): void {
  const p = presentRecord(record, { execution: options.execution ?? record?.workflowId ?? 'unknown' });
  if (!flags.json) out(formatRecord(p));
  else if (options.evidence && record)
    out(`${JSON.stringify({ ...p, evidence: record.evidence }, null, 2)}\n`);
  else out(`${JSON.stringify(p, null, 2)}\n`);
}

/** How long and how often the CLI polls a deployed stack's table for a workflow. */
export interface WaitOptions {
  intervalSeconds: number;
  /** Minutes to wait for the end; 0: do not wait for it (a new workflow is still found first). */
  timeoutMinutes: number;
}

/** `--interval SECONDS` (5; 1 to 300) and `--timeout MINUTES` (60; 0 to 10080). */
export function waitOptions(flags: Flags): WaitOptions {
  const number = (flag: string, fallback: number, min: number, max: number) => {
    const text = str(flags[flag]);
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new UsageError(`--${flag}: expected a number from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };
  return {
    intervalSeconds: number('interval', 5, 1, 300),
    timeoutMinutes: number('timeout', 60, 0, 10080),
  };
}

export interface Followed {
  record: WorkflowRecord | undefined;
  /** Why the wait stopped: the workflow ended, the timeout, Ctrl-C, or nothing runs (a local state). */
  stopped: 'ended' | 'timeout' | 'interrupted' | 'idle';
}

/**
 * Follows a workflow until it ends: on a deployed stack, reads it every `intervalSeconds` (one
 * consistent GetItem) and prints each new history line as it appears, until it ends, the timeout
 * passes, or Ctrl-C (the workflow goes on; only the watching stops). A local state does not change
 * between commands (the twin ran what it started to its end), so it is read once.
 */
export async function follow(
  ws: Workspace,
  read: () => Promise<WorkflowRecord | undefined>,
  wait: WaitOptions,
  progress: (s: string) => void,
  deps: AwsDeps = {},
  first?: WorkflowRecord,
): Promise<Followed> {
  let record = first ?? (await read());
  if (!ws.live) return { record, stopped: record?.status === 'RUNNING' ? 'idle' : 'ended' };
  const polls = Math.ceil((wait.timeoutMinutes * 60) / wait.intervalSeconds);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  const signals = deps.signal ? [interrupt.signal, deps.signal] : [interrupt.signal];
  const signal = AbortSignal.any(signals);
  const sleep = deps.sleep ?? sleepFor;
  let shown = 0;
  try {
    for (let poll = 0; ; poll++) {
      if (record) {
        for (const h of record.history.slice(shown)) {
          progress(`    ${h.at}  ${h.stage.padEnd(8)} ${h.status.padEnd(12)} ${h.detail}\n`);
        }
        shown = record.history.length;
        if (record.status === 'ENDED') return { record, stopped: 'ended' };
      }
      if (poll >= polls) return { record, stopped: 'timeout' };
      await sleep(wait.intervalSeconds * 1000, signal);
      if (signal.aborted) return { record, stopped: 'interrupted' };
      record = await read();
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Waits `ms`, or less when the signal fires. */
function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The exit status and the closing line of a wait that did not see the end: 0 after a timeout
 * (the workflow goes on; the record printed says RUNNING), 130 after Ctrl-C, as shells expect.
 */
export function endOfWait(
  followed: Followed,
  ws: Workspace,
  workflowId: string,
  flags: Flags,
  out: (s: string) => void,
): number {
  if (followed.stopped === 'ended') return 0;
  if (!flags.json) {
    const again = `upshift workflows watch ${workflowId} ${ws.flag}`.trim();
    const why =
      followed.stopped === 'interrupted'
        ? 'stopped watching'
        : followed.stopped === 'timeout'
          ? `still running after ${str(flags.timeout) ?? 60} min`
          : 'still running; a local state changes only while a command or upshift up runs it';
    out(`${why}; the workflow goes on (${again})\n`);
  }
  return followed.stopped === 'interrupted' ? 130 : 0;
}
