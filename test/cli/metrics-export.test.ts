import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import type { AwsDeps } from '../../cli/aws/cli-api';
import { exportAudit } from '../../cli/commands/export';
import { metrics } from '../../cli/commands/metrics';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { LocalStack } from '../../local/stack';
import {
  type AuditEntry,
  auditColumns,
  auditCsv,
  auditEntry,
  csvValues,
} from '../../shared/domain/audit-export';
import { parseCatalog } from '../../shared/domain/catalog';
import { deliveryMetrics } from '../../shared/domain/metrics';
import { runCli as cli } from '../support/cli';
import { knownHistory, knownWindow } from '../support/history';

/**
 * A small RFC 4180 reader: records end with CRLF, fields with commas; a quoted field may hold
 * commas, CR, LF and doubled quotes. Anything else is an error, so a sloppy writer fails here.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`a quote inside an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
    } else if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else if (i < text.length) {
      throw new Error(`expected a comma or CRLF at ${i}, found ${JSON.stringify(text[i])}`);
    }
  }
  if (row.length) throw new Error('the last record does not end with CRLF');
  return rows;
}

const state = mkdtempSync(join(tmpdir(), 'upshift-metrics-'));
const inWindow = knownHistory.filter((r) => r.startedAt >= knownWindow.since);
let tableName = '';

beforeAll(async () => {
  // Prepare: the known history written through the workflow store into a saved state, its clock
  // at the end of the window.
  const stack = await LocalStack.start({
    catalog: parseCatalog(demoCatalog),
    stateDir: state,
    startAt: new Date(knownWindow.until),
  });
  for (const record of knownHistory) await stack.stores.workflows.create(record);
  tableName = stack.dynamo.tableName;
  await stack.close();
});

afterAll(() => rmSync(state, { recursive: true, force: true }));

describe('upshift metrics', () => {
  it('--json on a state with a known history gives the expected figures', async () => {
    // Act
    const { code, text } = await cli(['metrics', '--state', state, '--since', '2026-11-01', '--json']);
    // Assess
    expect(code).toBe(0);
    const m = JSON.parse(text);
    expect(m.window).toEqual(knownWindow);
    expect(m.deployments).toMatchObject({ started: 9, completed: 5 });
    expect(m.deploymentFrequency).toEqual({ completed: 5, days: 7, perDay: 0.71, perWeek: 5 });
    expect(m.leadTime.fromPublish.medianMinutes).toBe(45);
    expect(m.leadTime.fromCommit.medianMinutes).toBe(130);
    expect(m.changeFailureRate).toEqual({ failures: 5, deployments: 9, rate: 0.5556 });
    expect(m.timeToRestore).toMatchObject({ medianMinutes: 110, incidents: 4, open: 1 });
    expect(m.rollbacks.byCause).toEqual({ SHIFT_ALARM: 1, DEPLOYMENT_FAILED: 0, BAKE_ALARM: 2, MANUAL: 1 });
    expect(m.approvals.wait.medianMinutes).toBe(20);
    // Read back through DynamoDB, the figures are the pure function's over the records written.
    expect(m).toEqual(JSON.parse(JSON.stringify(deliveryMetrics(knownHistory, knownWindow))));
  });

  it('filters, a span back from now, and text for people', async () => {
    // Act
    const staging = JSON.parse(
      (await cli(['metrics', '--state', state, '--since', '7d', '--env', 'staging', '--json'])).text,
    );
    const text = (await cli(['metrics', '--state', state, '--since', '2026-11-01T00:00:00Z'])).text;
    // Assess
    expect(staging.window.since).toBe(knownWindow.since);
    expect(staging.workflows.total).toBe(2);
    expect(text).toContain('change failure rate   55.6% (5 of 9)');
    expect(text).toContain('rollbacks             4: SHIFT_ALARM 1, BAKE_ALARM 2, MANUAL 1 (1 failed)');
    expect(text).toContain('checkout in staging: 2 workflows');
  });

  it('mistakes are one line naming the flag', async () => {
    const bad = await cli(['metrics', '--state', state, '--since', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^upshift: --since: expected an ISO 8601 time .* got "last tuesday"\n$/);
    const none = await cli(['metrics', '--since', '7d']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('--state DIR');
    const later = await cli(['metrics', '--state', state, '--since', '2027-01-01']);
    expect(later.err).toContain('--since: 2027-01-01T00:00:00.000Z is after now');
  });
});

describe('upshift export', () => {
  it('--format csv parses back to the same records', async () => {
    // Act
    const { code, text } = await cli([
      'export',
      '--state',
      state,
      '--since',
      '2026-11-01',
      '--format',
      'csv',
    ]);
    // Assess
    expect(code).toBe(0);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...auditColumns]);
    expect(rows).toHaveLength(inWindow.length);
    const expected = inWindow.map((r) => csvValues(auditEntry(r)));
    expect(rows.map((row) => Object.fromEntries(auditColumns.map((c, i) => [c, row[i]])))).toEqual(expected);
    // And back to the records themselves: ids, outcomes, reasons, who approved.
    const byId = new Map(
      rows.map((row) => [row[0], Object.fromEntries(auditColumns.map((c, i) => [c, row[i]]))]),
    );
    for (const record of inWindow) {
      const row = byId.get(record.workflowId);
      expect(row?.outcome).toBe(record.outcome ?? 'RUNNING');
      expect(row?.startedAt).toBe(record.startedAt);
      expect(row?.reasons?.split('\n').filter(Boolean)).toEqual(
        record.reasons.map((r) => `${r.code}: ${r.message}`),
      );
    }
    expect(byId.get('w01')?.approvedBy).toBe('alice');
    expect(byId.get('w05')?.approvalDetail).toBe('rejected by bob: "quoted", with a comma');
  });

  it('--format json holds the same entries, and --out writes the file', async () => {
    // Prepare
    const file = join(state, 'audit.json');
    // Act
    const { code, text } = await cli(['export', '--state', state, '--since', '2026-11-01', '--out', file]);
    // Assess
    expect(code).toBe(0);
    expect(text).toBe(`wrote ${inWindow.length} workflows to ${file} (json)\n`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      count: number;
      entries: AuditEntry[];
      since: string;
    };
    expect(doc.since).toBe(knownWindow.since);
    expect(doc.count).toBe(inWindow.length);
    expect(doc.entries).toEqual(JSON.parse(JSON.stringify(inWindow.map(auditEntry))));
  });

  it('an unknown format is refused by name', async () => {
    const { code, err } = await cli(['export', '--state', state, '--format', 'xml']);
    expect(code).toBe(2);
    expect(err).toBe('upshift: --format: expected "json" or "csv", got "xml"\n');
  });
});

describe("--stack: the same records read from a deployed stack's table", () => {
  // The state's table served by dynalite stands for the stack's; DescribeStacks is mocked.
  let dynamo: LocalDynamo;
  let cfn: { restore(): void } | undefined;
  const deps = (): AwsDeps => ({
    cloudFormation: new CloudFormationClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    }),
    clientConfig: { endpoint: dynamo.endpoint },
  });
  const capture = () => {
    let text = '';
    return {
      out: (s: string) => {
        text += s;
      },
      text: () => text,
    };
  };

  beforeAll(async () => {
    dynamo = await startDynalite({ path: join(state, 'dynamodb'), tableName });
    const mock = mockClient(CloudFormationClient);
    cfn = mock;
    mock.on(DescribeStacksCommand, { StackName: 'UpshiftStateless' }).resolves({
      Stacks: [
        {
          StackName: 'UpshiftStateless',
          CreationTime: new Date(0),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [{ OutputKey: 'TableName', OutputValue: tableName }],
        },
      ],
    });
  });

  afterAll(async () => {
    cfn?.restore();
    await dynamo?.close();
  });

  it('metrics --stack --json: the figures of the records in the table, up to now', async () => {
    // Act
    const { out, text } = capture();
    const code = await metrics({ stack: 'UpshiftStateless', since: '2026-11-01', json: true }, out, deps());
    // Assess: on AWS `now` is the wall clock, so the window ends there
    expect(code).toBe(0);
    const m = JSON.parse(text());
    expect(m.window.since).toBe(knownWindow.since);
    expect(m.changeFailureRate).toEqual({ failures: 5, deployments: 9, rate: 0.5556 });
    expect(m).toEqual(
      JSON.parse(
        JSON.stringify(deliveryMetrics(knownHistory, { since: knownWindow.since, until: m.window.until })),
      ),
    );
  });

  it('export --stack --format csv: the same file as from the local state', async () => {
    // Act
    const { out, text } = capture();
    const code = await exportAudit(
      { stack: 'UpshiftStateless', since: '2026-11-01', format: 'csv' },
      out,
      deps(),
    );
    // Assess: what the local export printed above (the state's files are dynalite's now)
    expect(code).toBe(0);
    expect(text()).toBe(auditCsv(inWindow.map(auditEntry)));
    expect(parseCsv(text())).toHaveLength(inWindow.length + 1);
  });

  it('--state and --stack exclude each other', async () => {
    await expect(metrics({ stack: 'UpshiftStateless', state }, () => undefined, deps())).rejects.toThrow(
      /--state and --stack exclude each other/,
    );
  });
});

describe('metrics and export over upgrades the twin really ran', () => {
  const real = mkdtempSync(join(tmpdir(), 'upshift-metrics-real-'));
  afterAll(() => rmSync(real, { recursive: true, force: true }));

  it('an approved production upgrade and a staging rollback: the figures and who approved', async () => {
    // Prepare: production asks a human (alice approves), then waits for Sunday's window; staging
    // 1.2.0 trips its alarm during the shift.
    const fixtures = 'test/fixtures/events';
    const production = await cli([
      'run',
      '--event',
      `${fixtures}/checkout-1.1.0-production.json`,
      '--at',
      '2026-12-02T10:00:00Z',
      '--approve',
      '--state',
      real,
      '--json',
    ]);
    const staging = await cli([
      'run',
      '--event',
      `${fixtures}/checkout-1.2.0-staging.json`,
      '--state',
      real,
      '--json',
    ]);
    const done = JSON.parse(production.text) as { outcome: string; startedAt: string; endedAt: string };
    expect([done.outcome, JSON.parse(staging.text).outcome]).toEqual(['COMPLETED', 'ROLLED_BACK']);
    // Act
    const m = JSON.parse((await cli(['metrics', '--state', real, '--json'])).text);
    const audit = JSON.parse((await cli(['export', '--state', real, '--format', 'json'])).text) as {
      entries: AuditEntry[];
    };
    // Assess
    expect(m.deployments).toMatchObject({ started: 2, completed: 1, rolledBack: 1 });
    expect(m.changeFailureRate).toEqual({ failures: 1, deployments: 2, rate: 0.5 });
    expect(m.rollbacks.byCause).toMatchObject({ SHIFT_ALARM: 1 });
    expect(m.leadTime.fromPublish).toMatchObject({
      count: 1,
      medianMinutes: (Date.parse(done.endedAt) - Date.parse(done.startedAt)) / 60_000,
    });
    expect(m.approvals).toMatchObject({ requested: 1, approved: 1, pending: 0 });
    expect(m.targets.map((t: { environment: string }) => t.environment)).toEqual(['production', 'staging']);
    const [approved, rolledBack] = audit.entries;
    expect(approved).toMatchObject({
      environment: 'production',
      outcome: 'COMPLETED',
      decision: 'APPROVE',
      approvalStatus: 'APPROVED',
      approvedBy: ['alice'],
      publishedBy: 'ci@example.com',
    });
    expect(approved?.evidenceRef).toMatch(/^s3:\/\/.+\/verification\/checkout\/production\//);
    expect(approved?.deploymentId).toMatch(/^d-/);
    expect(rolledBack?.reasons.map((r) => r.code)).toContain('ALARM');
  });
});
