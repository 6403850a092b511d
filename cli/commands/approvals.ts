import { existsSync, readFileSync } from 'node:fs';
import { serverFile } from '../../local/server/up';
import { type ApiCall, type AwsDeps, cliApiOf } from '../aws/cli-api';
import { awsTargetOf } from '../aws/stack';
import { type Flags, str, UsageError } from './shared';

/** Where a running `upshift up` listens: `--endpoint URL`, or the server file in `--state DIR`. */
export function endpointOf(flags: Flags): string {
  const endpoint = str(flags.endpoint);
  if (endpoint) {
    if (!/^https?:\/\/[^/\s]+/.test(endpoint))
      throw new UsageError(`--endpoint: expected a URL such as http://127.0.0.1:4600, got "${endpoint}"`);
    return endpoint.replace(/\/+$/, '');
  }
  const state = str(flags.state);
  if (!state) throw new UsageError('expected --endpoint URL or --state DIR of a running upshift up');
  const file = serverFile(state);
  if (!existsSync(file))
    throw new UsageError(`no upshift up is running on ${state} (start one: upshift up --state ${state})`);
  const { url } = JSON.parse(readFileSync(file, 'utf8')) as { url?: string };
  if (!url) throw new UsageError(`${file} names no URL; restart upshift up`);
  return url;
}

/**
 * The decision API the command talks to: with `--stack NAME`, the stack's CLI API signed with the
 * caller's AWS credentials (the identity is the caller's principal); else a running `upshift up`,
 * signed in as the `--as` user.
 */
async function apiOf(flags: Flags, deps: AwsDeps): Promise<ApiCall> {
  const target = awsTargetOf(flags);
  if (target) {
    for (const flag of ['endpoint', 'state', 'as'] as const) {
      if (str(flags[flag])) {
        throw new UsageError(
          `--${flag} and --stack exclude each other: on AWS the identity is your AWS principal and the API is the stack's`,
        );
      }
    }
    return cliApiOf(target, deps);
  }
  const endpoint = endpointOf(flags);
  const token = await signIn(endpoint, actorOf(flags));
  return (path, init) => call(endpoint, path, { ...init, token });
}

/** Who acts: `--as NAME` (a user of the users file), else UPSHIFT_USER. */
function actorOf(flags: Flags): string {
  const name = str(flags.as) ?? process.env.UPSHIFT_USER;
  if (!name) throw new UsageError('--as NAME: which user of the users file you are (or set UPSHIFT_USER)');
  return name;
}

/** Signs in as the user through the server's local sign-in, as the console does. */
async function signIn(endpoint: string, user: string): Promise<string> {
  const res = await call(endpoint, '/auth/token', { method: 'POST', body: { user } });
  if (res.status !== 200) throw new UsageError(errorText(res.body, `cannot sign in as ${user}`));
  return String((res.body as { token: string }).token);
}

async function call(
  endpoint: string,
  path: string,
  init: { method: string; body?: unknown; token?: string },
): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${endpoint}${path}`, {
      method: init.method,
      headers: {
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch (error) {
    throw new UsageError(`cannot reach upshift up at ${endpoint}: ${(error as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as it came.
  }
  return { status: res.status, body };
}

function errorText(body: unknown, fallback: string): string {
  const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (e?.message) return `${e.message}${e.code ? ` (${e.code})` : ''}`;
  // API Gateway's own refusals (IAM authorization) are `{"message": "..."}`.
  const gateway = (body as { message?: unknown } | undefined)?.message;
  return typeof gateway === 'string' && gateway ? `${gateway} (${fallback})` : fallback;
}

/**
 * `upshift approvals list [--component C] [--env E] [--json] (--state DIR | --endpoint URL) [--as NAME]`,
 * or `--stack NAME [--region R] [--profile P]` against AWS (the same routes and output).
 * `--json` prints `{"approvals": [{"id", "component", "version", "environment", "requestedAt", "expiresAt", ...}]}`.
 */
export async function approvals(
  rest: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: AwsDeps = {},
): Promise<number> {
  const [sub] = rest;
  if (sub !== 'list') throw new UsageError('approvals: expected "list" (upshift approvals list --state DIR)');
  const api = await apiOf(flags, deps);
  const query = new URLSearchParams();
  if (str(flags.component)) query.set('component', str(flags.component) as string);
  if (str(flags.env)) query.set('environment', str(flags.env) as string);
  const res = await api(`/api/approvals${query.size ? `?${query}` : ''}`, { method: 'GET' });
  if (res.status !== 200) throw new UsageError(errorText(res.body, `the API answered ${res.status}`));
  const list = (res.body as { approvals: Record<string, unknown>[] }).approvals;
  if (flags.json) {
    out(`${JSON.stringify({ approvals: list }, null, 2)}\n`);
    return 0;
  }
  if (list.length === 0) out('no pending approvals\n');
  for (const a of list) {
    out(
      `${String(a.id).padEnd(28)} ${String(a.component).padEnd(12)} ${String(a.version).padEnd(10)} ${String(a.environment).padEnd(12)} risk ${String(a.risk).padEnd(8)} expires ${String(a.expiresAt)}\n`,
    );
  }
  return 0;
}

/** `upshift approve ID --comment C` and `upshift reject ID --comment C`, as the user `--as` names. */
export function answer(approve: boolean) {
  return async (
    rest: string[],
    flags: Flags,
    out: (s: string) => void,
    deps: AwsDeps = {},
  ): Promise<number> => {
    const verb = approve ? 'approve' : 'reject';
    const [id] = rest;
    if (!id) throw new UsageError(`${verb}: expected the approval id (upshift approvals list shows them)`);
    const comment = str(flags.comment);
    if (!comment) throw new UsageError(`${verb}: --comment TEXT is required: why you ${verb}`);
    const api = await apiOf(flags, deps);
    const res = await api(`/api/approvals/${encodeURIComponent(id)}/${verb}`, {
      method: 'POST',
      body: { comment },
    });
    if (res.status !== 200) throw new UsageError(errorText(res.body, `the API answered ${res.status}`));
    const outcome = res.body as { message: string; status: string };
    out(flags.json ? `${JSON.stringify(outcome, null, 2)}\n` : `${outcome.message}\n`);
    return 0;
  };
}
