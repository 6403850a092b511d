import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadUsers } from '../../local/server/identity';
import { LocalStack } from '../../local/stack';
import { ensureStateDir, StateDirUnusable } from '../../local/state-lock';
import type { Catalog } from '../../shared/domain/catalog';
import type { WorkflowRecord } from '../../shared/domain/workflow';
import { loadCatalog } from '../catalog-file';
import { DEFAULT_USERS_FILE } from './up';

/** A mistake in the command line: exit 2 with the message, never a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

/**
 * Whether `--state` may be created (commands that write: run, publish, rollback, policies put) or
 * must already exist (commands that only read: a typo must not quietly create an empty folder and
 * print an empty answer).
 */
export type StateUse = 'write' | 'read';

// zod's ISO check knows month lengths and leap years, so 2026-02-30 is refused instead of
// rolling over to March 2nd as Date.parse does.
const isoInstant = z.iso.datetime({ offset: true });

/** The instant of an ISO 8601 flag such as `--at`, or a UsageError naming the flag. */
export function isoTime(flag: string, text: string): Date {
  const ms = Date.parse(text);
  if (!isoInstant.safeParse(text).success || Number.isNaN(ms)) {
    throw new UsageError(`${flag}: expected an ISO 8601 time such as 2026-12-02T10:00:00Z, got "${text}"`);
  }
  return new Date(ms);
}

/**
 * Checks `--state` before the local stack touches it: a file, an unusable path or a corrupt saved
 * state become one clear line; a read-only command requires a state that was saved before.
 */
export function prepareState(dir: string, use: StateUse): void {
  const isFile = existsSync(dir) && !statSync(dir).isDirectory();
  if (isFile) throw new StateDirUnusable(dir, `${dir} is a file, not a folder`);
  const saved = join(dir, 'simulators.json');
  if (use === 'read' && !existsSync(dir)) {
    throw new StateDirUnusable(
      dir,
      `no saved state in ${dir} (run, publish or rollback with --state ${dir} first)`,
    );
  }
  ensureStateDir(dir);
  if (!existsSync(saved)) return;
  let problem: string | undefined;
  try {
    const state = JSON.parse(readFileSync(saved, 'utf8')) as { clock?: unknown } | null;
    if (
      !state ||
      typeof state !== 'object' ||
      typeof state.clock !== 'string' ||
      Number.isNaN(Date.parse(state.clock))
    )
      problem = 'it has no valid clock';
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem) {
    throw new StateDirUnusable(
      dir,
      `the saved state ${saved} is corrupt (${problem}); move the folder away or use another --state`,
    );
  }
}

/** Starts the local stack the command runs on, with --state checked first. */
export async function openStack(
  flags: Flags,
  use: StateUse,
  catalog: Catalog = loadCatalog(str(flags.catalog)),
): Promise<LocalStack> {
  const stateDir = str(flags.state);
  if (stateDir) prepareState(stateDir, use);
  const at = str(flags.at);
  return LocalStack.start({
    catalog,
    ...(stateDir ? { stateDir } : {}),
    ...(at ? { startAt: isoTime('--at', at) } : {}),
    ...(flags.approve || flags.reject ? { autoAnswer: answerAs(flags) } : {}),
  });
}

export function str(v: Flags[string]): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The final workflow record as the CLI prints it. */
export function presentRecord(
  record: WorkflowRecord | undefined,
  fallback: { execution: string; error?: string },
) {
  if (!record) {
    return {
      workflowId: fallback.execution,
      status: 'ENDED',
      outcome: 'FAILED',
      reasons: [{ code: 'NO_RECORD', message: fallback.error ?? 'the workflow left no record' }],
      history: [],
    };
  }
  return {
    workflowId: record.workflowId,
    // RUNNING until Record ends it (a deployed stack is read while it works); then its outcome.
    status: record.status,
    outcome: record.outcome ?? (record.status === 'RUNNING' ? null : 'FAILED'),
    reasons: record.reasons,
    component: record.component ?? null,
    version: record.version ?? null,
    environment: record.environment ?? null,
    startedAt: record.startedAt,
    endedAt: record.endedAt ?? null,
    history: record.history,
  };
}

export function formatRecord(p: ReturnType<typeof presentRecord>): string {
  const lines = [
    `${p.outcome ?? p.status}  ${'component' in p ? `${p.component ?? '-'} ${p.version ?? '-'} in ${p.environment ?? '-'}` : ''}  (${p.workflowId})`,
    ...p.reasons.map((r) => `  ${r.code}: ${r.message}`),
    '  history:',
    ...p.history.map((h) => `    ${h.at}  ${h.stage.padEnd(8)} ${h.status.padEnd(12)} ${h.detail}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The source of every event the CLI puts on the bus, locally and on AWS. */
export const CLI_SOURCE = 'upshift.cli';

/**
 * An event as the bus receives it from `upshift` (PutEvents), stamped with `at` (the virtual time
 * locally). On AWS only its source, detail-type and detail are sent; EventBridge adds the rest.
 */
export function cliEvent<D extends Record<string, unknown>>(at: Date, detailType: string, detail: D) {
  return {
    version: '0' as const,
    id: randomUUID(),
    'detail-type': detailType,
    source: CLI_SOURCE,
    account: '000000000000',
    time: at.toISOString(),
    region: 'local',
    resources: [] as string[],
    detail,
  };
}

/**
 * Who answers an approval for `--approve` / `--reject`: people of the users file (`--users`, the
 * demo's by default), never names and groups typed on the command line, so the policy's groups and
 * its publisher rule mean what they say. `--approver NAME` (repeatable, for a quorum) picks them;
 * without it, the file's first user in any group answers.
 */
export function answerAs(flags: Flags): {
  approve: boolean;
  by: string[];
  groupsOf: Record<string, string[]>;
} {
  if ((flags.group as string[] | undefined)?.length) {
    throw new UsageError('--group: groups come from the users file (--users), not from the command line');
  }
  const file = str(flags.users) ?? DEFAULT_USERS_FILE;
  const users = loadUsers(file).users;
  const groupsOf = Object.fromEntries(users.map((u) => [u.name, u.groups]));
  const named = (flags.approver as string[] | undefined) ?? [];
  for (const name of named) {
    if (!Object.hasOwn(groupsOf, name)) {
      throw new UsageError(
        `--approver: ${name} is not a user of ${file} (${users.map((u) => u.name).join(', ')})`,
      );
    }
  }
  const first = users.find((u) => u.groups.length > 0);
  if (!named.length && !first) throw new UsageError(`--approve: no user of ${file} is in any group`);
  return { approve: !!flags.approve, by: named.length ? named : [first?.name as string], groupsOf };
}

/** Who is acting, for the records: the OS user, marked local. */
export function localActor(): string {
  return process.env.USER ? `${process.env.USER}@local` : 'cli@local';
}
