import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StateDirUnusable, StateInUse } from '../local/state-lock';
import { InvalidDocument } from '../shared/domain/errors';
import { answer, approvals } from './commands/approvals';
import { demo } from './commands/demo';
import { exportAudit } from './commands/export';
import { metrics } from './commands/metrics';
import { PolicyProblems, policies } from './commands/policies';
import { publish } from './commands/publish';
import { rollback } from './commands/rollback';
import { run } from './commands/run';
import { type Flags, isoTime, UsageError } from './commands/shared';
import { status, workflows } from './commands/state';
import { up } from './commands/up';
import { verifyCommand } from './commands/verify';
import { waves } from './commands/waves';
import { commandHelp, usage } from './help';

const options = {
  event: { type: 'string' },
  catalog: { type: 'string' },
  state: { type: 'string' },
  at: { type: 'string' },
  approve: { type: 'boolean' },
  reject: { type: 'boolean' },
  json: { type: 'boolean' },
  component: { type: 'string' },
  version: { type: 'string' },
  env: { type: 'string' },
  'function-version': { type: 'string' },
  label: { type: 'string', multiple: true },
  approver: { type: 'string', multiple: true },
  group: { type: 'string', multiple: true },
  limit: { type: 'string' },
  file: { type: 'string' },
  to: { type: 'string' },
  reason: { type: 'string' },
  comment: { type: 'string' },
  verdict: { type: 'string' },
  approved: { type: 'boolean' },
  candidate: { type: 'string' },
  baseline: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  port: { type: 'string' },
  speed: { type: 'string' },
  users: { type: 'string' },
  endpoint: { type: 'string' },
  as: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  since: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  'webhook-url': { type: 'string' },
  'webhook-secret-file': { type: 'string' },
} as const;

/** What the user can fix: a flag, a file, a folder. They print their message and exit 2. */
const userErrors = [UsageError, PolicyProblems, StateInUse, StateDirUnusable, InvalidDocument];

const commands: Record<string, (rest: string[], flags: Flags, out: (s: string) => void) => Promise<number>> =
  {
    demo: (_rest, flags, out) => demo(flags, out),
    run: (_rest, flags, out) => run(flags, out),
    publish: (_rest, flags, out) => publish(flags, out),
    status: (_rest, flags, out) => status(flags, out),
    workflows,
    waves,
    policies,
    rollback: (_rest, flags, out) => rollback(flags, out),
    verify: (_rest, flags, out) => verifyCommand(flags, out),
    up: (_rest, flags, out) => up(flags, out),
    approvals,
    approve: answer(true),
    reject: answer(false),
    metrics: (_rest, flags, out) => metrics(flags, out),
    export: (_rest, flags, out) => exportAudit(flags, out),
  };

/**
 * Runs the CLI and returns the exit code. A user's mistake prints one line (or its list of
 * problems) and exits 2; anything else is a crash: one line naming the file that holds the details.
 */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  try {
    let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
    try {
      parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const [command, ...rest] = parsed.positionals;
    const flags = parsed.values as Flags;
    const known = command !== undefined && Object.hasOwn(commands, command);
    if (flags.help || !command) {
      out(`${known ? commandHelp[command] : usage}\n`);
      return command || flags.help ? 0 : 2;
    }
    if (!known) throw new UsageError(`unknown command "${command}"; try upshift --help`);
    if (flags.approve && flags.reject) throw new UsageError('--approve and --reject exclude each other');
    if (typeof flags.at === 'string') isoTime('--at', flags.at);
    return await (commands[command] as (typeof commands)[string])(rest, flags, out);
  } catch (error) {
    if (userErrors.some((kind) => error instanceof kind)) {
      err(`upshift: ${(error as Error).message}\n`);
      return 2;
    }
    err(`upshift: crashed: ${oneLine(error)}; details in ${writeCrashReport(argv, error)}\n`);
    return 1;
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n')[0] ?? text;
}

/** Writes the stack and the arguments to a file in the temp folder and returns its path. */
function writeCrashReport(argv: string[], error: unknown): string {
  const file = join(
    tmpdir(),
    `upshift-crash-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`,
  );
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  try {
    writeFileSync(file, `upshift ${argv.join(' ')}\n\n${detail}\n${causes(error)}`);
    return file;
  } catch {
    return '(the crash report could not be written)';
  }
}

function causes(error: unknown): string {
  let text = '';
  for (let c = (error as Error | undefined)?.cause; c; c = (c as Error).cause) {
    text += `\ncaused by: ${c instanceof Error ? (c.stack ?? c.message) : String(c)}\n`;
  }
  return text;
}

/**
 * `upshift ... | head -1`: once the reader has gone, writing fails with EPIPE. That is not an
 * error of the command, so the process ends quietly, as `yes | head` does.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}
