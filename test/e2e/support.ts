import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { loadCatalog } from '../../cli/catalog-file';
import type { LocalStack } from '../../local/stack';
import type { Catalog } from '../../shared/domain/catalog';

export const CHROMIUM = '/usr/bin/chromium';
/** A Wednesday at 10:00 UTC: no freeze; a patch may shift outside production's Sunday window once approved. */
export const START = '2026-12-02T10:00:00Z';

/**
 * The demo catalog with production's approvers limited to the release-managers group, and no
 * maintenance window, so that an approved upgrade shifts at once instead of waiting for Sunday.
 */
export function approvalsCatalog(): Catalog {
  const catalog = loadCatalog(undefined);
  const production = catalog.policies.production;
  if (!production) throw new Error('the demo catalog has no production policy');
  production.approvals.groups = ['release-managers'];
  production.maintenanceWindows = [];
  return catalog;
}

/** CI's part: PutEvents with the SDK, pointed at `upshift up` by `endpoint`, as on AWS otherwise. */
export async function publishFromCi(endpoint: string, version: string) {
  const client = new EventBridgeClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'ci', secretAccessKey: 'ci' },
  });
  try {
    return await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'upshift',
            Source: 'ci.github',
            DetailType: 'Version Published',
            Detail: JSON.stringify({
              component: 'checkout',
              version,
              environment: 'production',
              artifact: { type: 'lambda', functionName: 'checkout-production', functionVersion: '7' },
              labels: [],
              commit: '9f1c2ab',
              publishedBy: 'ci@example.com',
            }),
          },
        ],
      }),
    );
  } finally {
    client.destroy();
  }
}

/** Waits for `probe` to return a value, checking again after each turn; fails after `limitMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  limitMs = 120_000,
): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A signed-in call to the decision API of a running `upshift up`. */
export async function apiAs(
  base: string,
  user: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
) {
  const sign = await fetch(`${base}/auth/token`, { method: 'POST', body: JSON.stringify({ user }) });
  const { token } = (await sign.json()) as { token: string };
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, text: await res.text() };
}

/** Every task token the table stores (approvals, deployment waits, bakes): what must never leak. */
export async function storedTaskTokens(stack: LocalStack): Promise<string[]> {
  const out = await stack.dynamo.document.send(new ScanCommand({ TableName: stack.dynamo.tableName }));
  return (out.Items ?? []).map((i) => i.taskToken).filter((t): t is string => typeof t === 'string');
}

/** The places a token could leak to, as text: every event on the buses, records and the state's files. */
export async function producedText(stack: LocalStack, stateDir: string): Promise<string[]> {
  const workflows = await stack.stores.workflows.list(100);
  const approvals = await stack.stores.approvals.listPending(100);
  return [
    ...stack.events.log.map((e) => JSON.stringify(e)),
    ...workflows.map((w) => JSON.stringify(w)),
    ...approvals.map((a) => JSON.stringify(a)),
    ...stack.sns.published.map((m) => JSON.stringify(m)),
    readFileSync(`${stateDir}/simulators.json`, 'utf8'),
  ];
}
