import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../../shared/domain/catalog';
import { twinSecretArn } from '../emulators/secrets-manager';
import { LocalStack } from '../stack';
import { LocalIdentityProvider, type UsersFile } from './identity';
import { startUpServer, type UpServer } from './server';

export interface UpOptions {
  catalog: Catalog;
  users: UsersFile;
  stateDir: string;
  /** 0 picks a free port. */
  port: number;
  /** The wall clock runs this many times as fast as real time. */
  speed?: number;
  /** Where the clock starts (a kept state starts at its last instant, or now). */
  startAt?: Date;
  log?: (line: string) => void;
  /** Feedback to CI: every outcome POSTed to `url`, signed with `secret` (docs/ci-feedback.md). */
  webhook?: { url: string; secret: string };
}

/** The name of the webhook's key in the twin's Secrets Manager, as an operator would create it. */
export const UP_WEBHOOK_SECRET = 'upshift/ci-feedback-webhook';

export interface Up {
  stack: LocalStack;
  server: UpServer;
  urls: { console: string; api: string; events: string };
  close(): Promise<void>;
}

/** Where `upshift up` says it listens, in its state folder: how `upshift approve --state` finds it. */
export function serverFile(stateDir: string): string {
  return join(stateDir, 'server.json');
}

/**
 * The long-lived local stack: the twin on the wall clock (optionally sped up), state kept in
 * `stateDir`, and the console, the decision API and the PutEvents endpoint on 127.0.0.1.
 */
export async function startUp(options: UpOptions): Promise<Up> {
  const identity = new LocalIdentityProvider(options.users, options.stateDir);
  const server = await startUpServer({
    port: options.port,
    identity,
    ...(options.log ? { log: options.log } : {}),
  });
  // The notification's link and the reminder's: this console (the functions read it at load).
  process.env.UPSHIFT_CONSOLE_URL = `${server.url}/`;
  let stack: LocalStack;
  try {
    stack = await LocalStack.start({
      catalog: options.catalog,
      stateDir: options.stateDir,
      wallClock: { speed: options.speed ?? 1 },
      ...(options.startAt ? { startAt: options.startAt } : {}),
      ...(options.webhook
        ? {
            ciFeedback: {
              webhook: { url: options.webhook.url, secretArn: twinSecretArn(UP_WEBHOOK_SECRET) },
            },
            secrets: [{ name: UP_WEBHOOK_SECRET, value: options.webhook.secret }],
          }
        : {}),
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  server.attach(stack);
  const urls = { console: `${server.url}/`, api: `${server.url}/api`, events: server.url };
  writeFileSync(
    serverFile(options.stateDir),
    `${JSON.stringify({ url: server.url, pid: process.pid, urls })}\n`,
  );
  let closed = false;
  return {
    stack,
    server,
    urls,
    async close() {
      if (closed) return;
      closed = true;
      rmSync(serverFile(options.stateDir), { force: true });
      await server.close();
      await stack.close();
    },
  };
}
