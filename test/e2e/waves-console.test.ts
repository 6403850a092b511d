import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../cli/catalog-file';
import { loadUsers } from '../../local/server/identity';
import { startUp, type Up } from '../../local/server/up';
import { promotionPolicySchema, type Wave } from '../../shared/domain/waves';
import { apiAs, CHROMIUM, eventually, START } from './support';

const hasChromium = existsSync(CHROMIUM);
let up: Up;
let browser: Browser | undefined;
let stateDir: string;

/** CI publishes checkout 1.1.0 to development through the PutEvents endpoint of `upshift up`. */
async function publishToDevelopment(endpoint: string) {
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
              version: '1.1.0',
              environment: 'development',
              artifact: { type: 'lambda', functionName: 'checkout-development', functionVersion: '7' },
              commit: '9f1c2ab',
              publishedBy: 'ci@example.com',
              // Each environment runs its own function: CI published 1.1.0 on staging's too.
              metadata: {
                artifacts: {
                  staging: { type: 'lambda', functionName: 'checkout-staging', functionVersion: '7' },
                },
              },
            }),
          },
        ],
      }),
    );
  } finally {
    client.destroy();
  }
}

describe('promotion waves on upshift up: the API and the console', () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'upshift-waves-up-'));
    // The demo catalog, checkout promoting development → staging after a one-minute soak.
    const catalog = loadCatalog(undefined);
    const checkout = catalog.components.checkout;
    if (!checkout) throw new Error('the demo catalog has no checkout');
    checkout.promotion = promotionPolicySchema.parse({ order: ['development', 'staging'], soakMinutes: 1 });
    up = await startUp({
      catalog,
      users: loadUsers('catalog/demo.users.json'),
      stateDir,
      port: 0,
      speed: 600,
      startAt: new Date(START),
      log: () => undefined,
    });
    if (hasChromium) {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await up?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('a version published to development reaches staging by itself; signed in, the API and the console show the wave', {
    timeout: 300_000,
  }, async () => {
    // Act: CI publishes to development only
    const put = await publishToDevelopment(up.urls.events);
    expect(put.FailedEntryCount).toBe(0);
    const wave = await eventually('the wave to complete', async () => {
      const res = await apiAs(up.server.url, 'dave', '/api/waves');
      const waves = JSON.parse(res.text).waves as Wave[];
      return waves.find((w) => w.component === 'checkout' && w.status === 'COMPLETED');
    });
    const anonymous = await fetch(`${up.server.url}/api/waves`);
    const one = await apiAs(up.server.url, 'dave', `/api/waves/${encodeURIComponent(wave.waveId)}`);
    // Assess: the API (any signed-in person may read; nobody without sign-in)
    expect(wave.stages.map((s) => [s.environment, s.status])).toEqual([
      ['development', 'PASSED'],
      ['staging', 'COMPLETED'],
    ]);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(one.text).wave.waveId).toBe(wave.waveId);
    if (!browser) {
      process.stderr.write(
        `test/e2e/waves-console.test.ts: the browser part skipped: ${CHROMIUM} is missing\n`,
      );
      return;
    }
    // Assess: the console's Waves page and the wave's own page
    const page = await browser.newPage();
    await page.goto(up.urls.console);
    await page.getByLabel('User (from the local users file)').selectOption('dave');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Pending approvals' }).waitFor();
    await page.getByRole('link', { name: 'Waves' }).click();
    const list = page.getByRole('table', { name: 'Waves, newest first' });
    await list.waitFor();
    expect(await list.locator('tbody tr').allInnerTexts()).toEqual([
      expect.stringMatching(/checkout wave-.*1\.1\.0\s+COMPLETED\s+development PASSED → staging COMPLETED/),
    ]);
    await page.getByRole('link', { name: `checkout ${wave.waveId}` }).click();
    await page.getByRole('heading', { name: 'checkout 1.1.0: COMPLETED' }).waitFor();
    const stages = await page.getByRole('table', { name: 'Stages' }).locator('tbody tr').allInnerTexts();
    expect(stages.map((row) => row.split('\t').slice(0, 2))).toEqual([
      ['development', 'PASSED'],
      ['staging', 'COMPLETED'],
    ]);
    await page.close();
  });
});
