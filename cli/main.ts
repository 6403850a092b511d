import { parseArgs } from 'node:util';
import { StateInUse } from '../local/state-lock';
import { InvalidDocument } from '../shared/domain/errors';
import { demo } from './commands/demo';
import { PolicyProblems, policies } from './commands/policies';
import { publish } from './commands/publish';
import { rollback } from './commands/rollback';
import { run } from './commands/run';
import { status, workflows } from './commands/state';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const usage = `upshift: a policy-gated upgrade pipeline for AWS (local mode)

Usage:
  upshift demo                                   the scripted local demo (npm start)
  upshift run --event FILE [--catalog FILE] [--state DIR] [--at ISO] [--approve|--reject] [--json]
              [--approver NAME]... [--group NAME]...
                                                 run one event to its end on a local stack; each
                                                 --approver votes in turn (a quorum), in --group
  upshift publish --component C --version V [--env E] [--function-version N] [--label L]...
                  [--catalog FILE] [--state DIR] [--at ISO] [--approve|--reject] [--json]
                                                 publish a Version Published event on the local bus
  upshift status [--component C] [--state DIR] [--catalog FILE] [--json]
                                                 current, previous and last known-good versions
  upshift workflows list [--state DIR] [--limit N] [--json]
  upshift workflows show ID [--state DIR] [--json]
  upshift rollback --component C --env E [--to VERSION] --reason TEXT [--state DIR] [--json]
                                                 stop the shift in flight, or go back to a known version
  upshift policies list | get ENV | history ENV [--state DIR] [--json]
  upshift policies validate --file F             check a policies document; each problem names its path
  upshift policies put --file F --state DIR [--comment TEXT]
                                                 write new policy versions, with who, when and the diff
  upshift policies explain --event F [--at ISO] [--verdict PASS|FAIL|INCONCLUSIVE] [--approved] [--json]
                                                 dry run: the decision and its trace; starts nothing

Exit status: 0 for every handled outcome (COMPLETED, ROLLED_BACK, REJECTED, ...), 2 for a usage
error, 1 for a crash.`;

export type Flags = Record<string, string | boolean | string[] | undefined>;

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
  help: { type: 'boolean', short: 'h' },
} as const;

const userErrors = [UsageError, PolicyProblems, StateInUse, InvalidDocument];

/** Runs the CLI and returns the exit code. */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
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
    if (flags.help || !command) {
      out(`${usage}\n`);
      return command || flags.help ? 0 : 2;
    }
    if (flags.approve && flags.reject) throw new UsageError('--approve and --reject exclude each other');
    if (typeof flags.at === 'string' && Number.isNaN(Date.parse(flags.at))) {
      throw new UsageError(`--at: expected an ISO 8601 time such as 2026-12-02T10:00:00Z, got "${flags.at}"`);
    }
    switch (command) {
      case 'demo':
        return await demo(flags, out);
      case 'run':
        return await run(flags, out);
      case 'publish':
        return await publish(flags, out);
      case 'status':
        return await status(flags, out);
      case 'workflows':
        return await workflows(rest, flags, out);
      case 'policies':
        return await policies(rest, flags, out);
      case 'rollback':
        return await rollback(flags, out);
      default:
        throw new UsageError(`unknown command "${command}"; try upshift --help`);
    }
  } catch (error) {
    // What the user can fix: a flag, a file, a folder in use. Anything else is a crash.
    if (userErrors.some((kind) => error instanceof kind)) {
      process.stderr.write(`upshift: ${(error as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`upshift: crashed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
