import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadUsers } from '../../local/server/identity';
import { startUp, type Up } from '../../local/server/up';
import {
  apiAs,
  approvalsCatalog,
  CHROMIUM,
  eventually,
  producedText,
  publishFromCi,
  START,
  storedTaskTokens,
} from './support';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  process.stderr.write(
    `test/e2e/console.test.ts: skipped: ${CHROMIUM} is missing (apt-get install chromium; CI installs it)\n`,
  );
}

let up: Up;
let browser: Browser;
let stateDir: string;
const logLines: string[] = [];
const served: string[] = [];
const restoreStdout = process.stdout.write.bind(process.stdout);

describe.skipIf(!hasChromium)('the approval console in a real browser, against upshift up', () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'upshift-console-'));
    // The functions' own log lines (the twin keeps them silent unless asked): captured and searched.
    process.env.UPSHIFT_LOG_LEVEL = 'info';
    process.stdout.write = ((chunk: string | Uint8Array) => {
      logLines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    up = await startUp({
      catalog: approvalsCatalog(),
      users: loadUsers('catalog/demo.users.json'),
      stateDir,
      port: 0,
      speed: 600,
      startAt: new Date(START),
      log: (line) => logLines.push(line),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await up?.close();
    process.stdout.write = restoreStdout;
    delete process.env.UPSHIFT_LOG_LEVEL;
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('a production upgrade of checkout waits, alice approves it with a comment, it completes, and no token leaks', {
    timeout: 300_000,
  }, async () => {
    // Prepare: CI publishes checkout 1.0.1 to production through the PutEvents endpoint.
    const put = await publishFromCi(up.urls.events, '1.0.1');
    expect(put.FailedEntryCount).toBe(0);
    const pending = await eventually('the approval', async () => {
      const res = await apiAs(up.server.url, 'alice', '/api/approvals');
      const list = JSON.parse(res.text).approvals as { id: string; component: string; environment: string }[];
      return list.find((a) => a.component === 'checkout' && a.environment === 'production');
    });

    // Act: sign in as alice, open the approval, read the evidence, approve with a comment.
    const page = await browser.newPage();
    page.on('response', async (response) => {
      served.push(await response.text().catch(() => ''));
    });
    await page.goto(up.urls.console);
    await page.getByLabel('User (from the local users file)').selectOption('alice');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Pending approvals' }).waitFor();
    served.push(await page.content());
    await page.getByRole('link', { name: 'checkout 1.0.1' }).click();
    await page.getByRole('heading', { name: 'checkout 1.0.1 to production' }).waitFor();
    const evidence = page.getByRole('table', { name: 'Verification evidence' });
    await evidence.waitFor();
    const rows = await evidence.locator('tbody tr').allInnerTexts();
    served.push(await page.content());
    await page.getByLabel('Comment').fill('Verified: no errors, p95 within budget');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('approved by alice').first().waitFor();
    served.push(await page.content());

    // Assess: the upgrade resumes and completes; the record shows who and why.
    const record = await eventually('COMPLETED', async () => {
      const w = await up.stack.stores.workflows.list(10);
      const mine = w.find((r) => r.version === '1.0.1' && r.environment === 'production');
      return mine?.status === 'ENDED' ? mine : undefined;
    });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.join('\n')).toMatch(/small-cart/);
    expect(record.outcome).toBe('COMPLETED');
    expect(record.history).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          stage: 'Approval',
          status: 'APPROVED',
          detail: 'approved by alice: Verified: no errors, p95 within budget',
        }),
      ]),
    );
    await page.goto(`${up.urls.console}#/upgrades`);
    await page.getByRole('table', { name: 'History' }).getByText('COMPLETED').first().waitFor();
    served.push(await page.content());
    mkdirSync('.upshift', { recursive: true });
    await page.screenshot({ path: '.upshift/console-e2e.png', fullPage: true });
    await page.close();

    // No task token in any response, page, event, record or log line.
    const approval = await up.stack.dynamo.document.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: up.stack.dynamo.tableName,
        Key: { pk: `APPROVAL#${pending.id}`, sk: 'RECORD' },
      }),
    );
    const tokens = [String(approval.Item?.taskToken), ...(await storedTaskTokens(up.stack))];
    expect(tokens[0]).toMatch(/.{8,}/);
    const haystack = [...served, ...logLines, ...(await producedText(up.stack, stateDir))];
    expect(haystack.length).toBeGreaterThan(10);
    for (const token of new Set(tokens)) {
      expect(haystack.filter((text) => text.includes(token))).toEqual([]);
    }
  });
});
