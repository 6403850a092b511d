import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsDeps } from '../../cli/aws/cli-api';
import { loadCatalog } from '../../cli/catalog-file';
import { status, workflows } from '../../cli/commands/state';
import type { WorkflowRecord } from '../../shared/domain/workflow';

const cfn = mockClient(CloudFormationClient);
const ddb = mockClient(DynamoDBDocumentClient);
const checkout = loadCatalog(undefined).components.checkout;
const TABLE = 'upshift-table';

function deps(extra: Partial<AwsDeps> = {}): AwsDeps {
  return {
    cloudFormation: new CloudFormationClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    }),
    sleep: async () => undefined,
    ...extra,
  };
}

function capture() {
  let text = '';
  return {
    out: (s: string) => {
      text += s;
    },
    text: () => text,
  };
}

const line = (stage: string, status: string, minute: number) => ({
  stage,
  at: `2026-12-02T10:${String(minute).padStart(2, '0')}:00.000Z`,
  status,
  detail: `${stage.toLowerCase()} ${status.toLowerCase()}`,
});

const running: WorkflowRecord = {
  workflowId: 'wf-02',
  status: 'RUNNING',
  reasons: [],
  component: 'checkout',
  environment: 'staging',
  version: '1.4.0',
  eventId: 'evt-2',
  startedAt: '2026-12-02T10:00:00.000Z',
  history: [line('INTAKE', 'ACCEPTED', 0)],
  evidence: {},
};

const item = (record: WorkflowRecord) => ({
  Item: { pk: `WORKFLOW#${record.workflowId}`, sk: 'RECORD', ...record },
});

beforeEach(() => {
  cfn.reset();
  ddb.reset();
  cfn.on(DescribeStacksCommand, { StackName: 'UpshiftStateless' }).resolves({
    Stacks: [
      {
        StackName: 'UpshiftStateless',
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [{ OutputKey: 'TableName', OutputValue: TABLE }],
      },
    ],
  });
  ddb.on(GetCommand).resolves({});
});

afterEach(() => {
  cfn.reset();
  ddb.reset();
});

describe('upshift status --stack NAME', () => {
  it('reads the catalog, each registry entry and each lock from the stack’s table', async () => {
    // Arrange
    ddb
      .on(QueryCommand, { TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)' })
      .resolves({ Items: [{ pk: 'CATALOG', sk: 'COMPONENT#checkout', component: checkout }] });
    ddb
      .on(GetCommand, { TableName: TABLE, Key: { pk: 'TARGET#checkout#staging', sk: 'REGISTRY' } })
      .resolves({
        Item: {
          pk: 'TARGET#checkout#staging',
          sk: 'REGISTRY',
          component: 'checkout',
          environment: 'staging',
          current: {
            version: '1.4.0',
            artifact: { type: 'lambda', functionName: 'f', functionVersion: '9' },
            at: 'x',
          },
          previous: {
            version: '1.3.0',
            artifact: { type: 'lambda', functionName: 'f', functionVersion: '8' },
            at: 'x',
          },
          lastKnownGood: {
            version: '1.4.0',
            artifact: { type: 'lambda', functionName: 'f', functionVersion: '9' },
            at: 'x',
          },
          lastUpgradeAt: '2026-12-02T10:16:00.000Z',
        },
      });
    const future = Math.floor(Date.now() / 1000) + 3600;
    ddb
      .on(GetCommand, { TableName: TABLE, Key: { pk: 'LOCK#checkout#production', sk: 'LOCK' } })
      .resolves({ Item: { pk: 'LOCK#checkout#production', sk: 'LOCK', owner: 'wf-07', expiresAt: future } });
    const { out, text } = capture();
    // Act
    const code = await status({ stack: 'UpshiftStateless', json: true }, out, deps());
    // Assess
    expect(code).toBe(0);
    const rows = JSON.parse(text()) as Record<string, unknown>[];
    expect(rows.map((r) => r.environment)).toEqual(Object.keys(checkout?.environments ?? {}));
    expect(rows.find((r) => r.environment === 'staging')).toEqual({
      component: 'checkout',
      environment: 'staging',
      current: '1.4.0',
      previous: '1.3.0',
      lastKnownGood: '1.4.0',
      lastUpgradeAt: '2026-12-02T10:16:00.000Z',
      lockedBy: null,
    });
    expect(rows.find((r) => r.environment === 'production')?.lockedBy).toBe('wf-07');
    const gets = ddb.commandCalls(GetCommand).map((c) => c.args[0].input);
    expect(gets).toContainEqual({
      TableName: TABLE,
      Key: { pk: 'TARGET#checkout#staging', sk: 'REGISTRY' },
      ConsistentRead: true,
    });
    expect(gets).toContainEqual({
      TableName: TABLE,
      Key: { pk: 'LOCK#checkout#staging', sk: 'LOCK' },
      ConsistentRead: true,
    });
  });

  it('an unknown --component names the stack; access denied is one line', async () => {
    // Arrange
    ddb.on(QueryCommand).resolves({ Items: [] });
    // Act / Assess
    await expect(
      status({ stack: 'UpshiftStateless', component: 'nosuch' }, () => {}, deps()),
    ).rejects.toThrow('--component: "nosuch" is not in the catalog of stack UpshiftStateless');
    const denied = Object.assign(
      new Error('User: arn:aws:iam::1:user/x is not authorized to perform: dynamodb:Query'),
      {
        name: 'AccessDeniedException',
      },
    );
    ddb.on(QueryCommand).rejects(denied);
    await expect(status({ stack: 'UpshiftStateless' }, () => {}, deps())).rejects.toThrow(
      /^--stack UpshiftStateless: AWS refused to read the catalog: DynamoDB Query failed: AccessDeniedException/,
    );
  });
});

describe('upshift workflows --stack NAME', () => {
  it('show reads the record from the table', async () => {
    // Arrange
    ddb.on(GetCommand, { Key: { pk: 'WORKFLOW#wf-02', sk: 'RECORD' } }).resolves(item(running));
    const { out, text } = capture();
    // Act
    const code = await workflows(['show', 'wf-02'], { stack: 'UpshiftStateless', json: true }, out, deps());
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text())).toEqual({
      workflowId: 'wf-02',
      status: 'RUNNING',
      outcome: null,
      reasons: [],
      component: 'checkout',
      version: '1.4.0',
      environment: 'staging',
      startedAt: running.startedAt,
      endedAt: null,
      history: running.history,
      evidence: {},
    });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'WORKFLOW#wf-02', sk: 'RECORD' },
      ConsistentRead: true,
    });
  });

  it('watch polls the table, prints each new history line once, and ends with the record', async () => {
    // Arrange
    const deploying = { ...running, history: [...running.history, line('DEPLOY', 'STARTED', 2)] };
    const ended: WorkflowRecord = {
      ...deploying,
      status: 'ENDED',
      outcome: 'COMPLETED',
      endedAt: '2026-12-02T10:16:00.000Z',
      history: [...deploying.history, line('RECORD', 'COMPLETED', 16)],
    };
    ddb
      .on(GetCommand, { Key: { pk: 'WORKFLOW#wf-02', sk: 'RECORD' } })
      .resolvesOnce(item(running))
      .resolvesOnce(item(running))
      .resolvesOnce(item(deploying))
      .resolves(item(ended));
    const waits: number[] = [];
    const { out, text } = capture();
    // Act
    const code = await workflows(
      ['watch', 'wf-02'],
      { stack: 'UpshiftStateless', interval: '2' },
      out,
      deps({ sleep: async (ms) => void waits.push(ms) }),
    );
    // Assess
    expect(code).toBe(0);
    expect(waits).toEqual([2000, 2000, 2000]);
    const lines = text().split('\n');
    expect(lines.filter((l) => l.includes('INTAKE'))).toHaveLength(2); // streamed once, then in the record
    expect(lines.filter((l) => l.includes('DEPLOY'))).toHaveLength(2);
    expect(text()).toContain('COMPLETED  checkout 1.4.0 in staging  (wf-02)');
  });

  it('watch stops at the timeout (exit 0, still running) and on Ctrl-C (exit 130)', async () => {
    // Arrange
    ddb.on(GetCommand, { Key: { pk: 'WORKFLOW#wf-02', sk: 'RECORD' } }).resolves(item(running));
    const timedOut = capture();
    const interrupted = capture();
    const stop = new AbortController();
    // Act
    const afterTimeout = await workflows(
      ['watch', 'wf-02'],
      { stack: 'UpshiftStateless', interval: '60', timeout: '3' },
      timedOut.out,
      deps(),
    );
    const afterInterrupt = await workflows(
      ['watch', 'wf-02'],
      { stack: 'UpshiftStateless' },
      interrupted.out,
      deps({ signal: stop.signal, sleep: async () => stop.abort() }),
    );
    // Assess
    expect(afterTimeout).toBe(0);
    expect(timedOut.text()).toContain(
      'still running after 3 min; the workflow goes on (upshift workflows watch wf-02 --stack UpshiftStateless)',
    );
    expect(ddb.commandCalls(GetCommand).length).toBeGreaterThanOrEqual(4);
    expect(afterInterrupt).toBe(130);
    expect(interrupted.text()).toContain('stopped watching; the workflow goes on');
  });

  it('refuses --state with --stack and a bad --interval', async () => {
    await expect(
      workflows(['list'], { stack: 'UpshiftStateless', state: '.upshift/x' }, () => {}, deps()),
    ).rejects.toThrow('--state and --stack exclude each other');
    await expect(
      workflows(['watch', 'wf-02'], { stack: 'UpshiftStateless', interval: '0' }, () => {}, deps()),
    ).rejects.toThrow('--interval: expected a number from 1 to 300, got "0"');
  });
});
