import { readFileSync } from 'node:fs';
import { loadUsers } from '../../local/server/identity';
import { startUp } from '../../local/server/up';
import { webhookUrl } from '../../shared/domain/feedback';
import { loadCatalog } from '../catalog-file';
import { type Flags, isoTime, prepareState, str, UsageError } from './shared';

export const DEFAULT_USERS_FILE = 'catalog/demo.users.json';
export const DEFAULT_UP_STATE = '.upshift/up';

/** `--port N`: 0 to 65535 (0 picks a free one). */
function portOf(flags: Flags): number {
  const text = str(flags.port) ?? '4600';
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535)
    throw new UsageError(`--port: expected 0 to 65535, got "${text}"`);
  return port;
}

function speedOf(flags: Flags): number {
  const text = str(flags.speed) ?? '1';
  const speed = Number(text);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 100_000)
    throw new UsageError(
      `--speed: expected a number above 0 (60 makes a minute take a second), got "${text}"`,
    );
  return speed;
}

/**
 * `--webhook-url URL` with its HMAC key from `--webhook-secret-file F` or UPSHIFT_WEBHOOK_SECRET:
 * never a flag's value, which would show in the shell's history and the process list.
 */
function webhookOf(flags: Flags): { url: string; secret: string } | undefined {
  const url = str(flags['webhook-url']);
  const file = str(flags['webhook-secret-file']);
  if (!url) {
    if (file) throw new UsageError('--webhook-secret-file: give --webhook-url too');
    return undefined;
  }
  const checked = webhookUrl.safeParse(url);
  if (!checked.success)
    throw new UsageError(`--webhook-url: ${checked.error.issues[0]?.message}, got "${url}"`);
  let secret: string | undefined;
  if (file) {
    try {
      secret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(`--webhook-secret-file: cannot read ${file}: ${(error as Error).message}`);
    }
  } else secret = process.env.UPSHIFT_WEBHOOK_SECRET;
  if (!secret) {
    throw new UsageError(
      '--webhook-url: the signing key is missing: give --webhook-secret-file F (or set UPSHIFT_WEBHOOK_SECRET)',
    );
  }
  return { url, secret };
}

/**
 * `upshift up --port N --state DIR [--speed X] [--users FILE] [--catalog FILE] [--at ISO]`: the
 * long-lived local stack with the console, the decision API and the PutEvents endpoint on
 * 127.0.0.1. Prints the URLs and runs until stopped (Ctrl-C).
 */
export async function up(
  flags: Flags,
  out: (s: string) => void,
  until: Promise<unknown> = stopSignal(),
): Promise<number> {
  const port = portOf(flags);
  const speed = speedOf(flags);
  const stateDir = str(flags.state) ?? DEFAULT_UP_STATE;
  const usersFile = str(flags.users) ?? DEFAULT_USERS_FILE;
  prepareState(stateDir, 'write');
  const users = loadUsers(usersFile);
  const catalog = loadCatalog(str(flags.catalog));
  const at = str(flags.at);
  const webhook = webhookOf(flags);
  const running = await startUp({
    catalog,
    users,
    stateDir,
    port,
    speed,
    ...(at ? { startAt: isoTime('--at', at) } : {}),
    ...(webhook ? { webhook } : {}),
    log: (line) => out(`${new Date().toISOString().slice(11, 19)}  ${line}\n`),
  });
  out(
    [
      `upshift up: ${stateDir}, the clock at ${running.stack.scheduler.now().toISOString()}${speed === 1 ? '' : ` running ${speed}x`}`,
      `  console  ${running.urls.console}`,
      `  api      ${running.urls.api}`,
      `  events   ${running.urls.events}   (aws events put-events --endpoint-url ${running.urls.events} ...)`,
      `  users    ${users.users.map((u) => u.name).join(', ')} (${usersFile})`,
      ...(webhook ? [`  webhook  ${webhook.url}   (every outcome, signed: X-Upshift-Signature)`] : []),
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  await until;
  await running.close();
  out('upshift up: stopped\n');
  return 0;
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
