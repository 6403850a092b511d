import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsDeps } from '../../cli/aws/cli-api';
import { loadCatalog } from '../../cli/catalog-file';
import { policies } from '../../cli/commands/policies';
import { publish } from '../../cli/commands/publish';
import { rollback } from '../../cli/commands/rollback';
import type { Flags } from '../../cli/commands/shared';
import { status, workflows } from '../../cli/commands/state';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { LocalStack } from '../../local/stack';
import { runCli as cli } from '../support/cli';

/**
 * The same data read locally (`--state DIR`) and through `--stack NAME` must print the same. The
 * local commands run on a saved twin state; then dynalite is started on that state's files and
 * the AWS mode reads it as the stack's table (DescribeStacks, STS and PutEvents are mocked; the
 * DynamoDB calls are the real adapter's, against dynalite).
 */
const state = mkdtempSync(join(tmpdir(), 'upshift-stack-shapes-'));
const at = '2026-12-02T10:00:00Z';
const arn = 'arn:aws:sts::123456789012:assumed-role/Deployer/alice';
// Made after the local runs: a class mock would also answer the twin's own clients.
function mockAws() {
  return {
    cfn: mockClient(CloudFormationClient),
    eventBridge: mockClient(EventBridgeClient),
    sts: mockClient(STSClient),
  };
}
let mocks: ReturnType<typeof mockAws>;
let tableName = '';
let dynamo: LocalDynamo;
const local: Record<string, { code: number; text: string }> = {};

function capture() {
  let text = '';
  return {
    out: (s: string) => {
      text += s;
    },
    text: () => text,
  };
}

function deps(): AwsDeps {
  return {
    cloudFormation: new CloudFormationClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    }),
    clientConfig: { endpoint: dynamo.endpoint },
    sleep: async () => undefined,
  };
}

const onStack: Flags = { stack: 'UpshiftStateless' };

beforeAll(async () => {
  // Prepare: the table's name, as the twin synthesizes it, then a saved state with a completed
  // upgrade, a manual rollback and a policy version written by put.
  const probe = await LocalStack.start({ catalog: loadCatalog(undefined) });
  tableName = probe.dynamo.tableName;
  await probe.close();
  const base = ['--state', state, '--at', at, '--json'];
  local.publish = await cli([
    'publish',
    '--component',
    'checkout',
    '--version',
    '1.1.0',
    '--env',
    'development',
    ...base,
  ]);
  local.rollback = await cli([
    'rollback',
    '--component',
    'checkout',
    '--env',
    'development',
    '--reason',
    'shape test',
    ...base,
  ]);
  const policyFile = join(state, 'policy.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(policyFile, JSON.stringify({ development: { bakeMinutes: 3 } }));
  local.put = await cli(['policies', 'put', '--file', policyFile, '--comment', 'shorter bake', ...base]);
  const read = ['--state', state, '--json'];
  local.status = await cli(['status', ...read]);
  local.list = await cli(['workflows', 'list', ...read]);
  const id = (JSON.parse(local.publish.text) as { workflowId: string }).workflowId;
  local.show = await cli(['workflows', 'show', id, ...read]);
  local.watch = await cli(['workflows', 'watch', id, ...read]);
  local.policyList = await cli(['policies', 'list', ...read]);
  local.policyGet = await cli(['policies', 'get', 'development', ...read]);
  local.history = await cli(['policies', 'history', 'development', ...read]);
  for (const [name, result] of Object.entries(local)) {
    if (result.code !== 0) throw new Error(`local ${name} exited ${result.code}: ${result.text}`);
  }
  dynamo = await startDynalite({ path: join(state, 'dynamodb'), tableName });
  mocks = mockAws();
  mocks.cfn.on(DescribeStacksCommand, { StackName: 'UpshiftStateless' }).resolves({
    Stacks: [
      {
        StackName: 'UpshiftStateless',
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'TableName', OutputValue: tableName },
          { OutputKey: 'EventBusName', OutputValue: 'upshift' },
        ],
      },
    ],
  });
  mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Arn: arn, Account: '123456789012', UserId: 'AROA:alice' });
}, 240_000);

afterAll(async () => {
  await dynamo?.close();
  mocks?.cfn.restore();
  mocks?.eventBridge.restore();
  mocks?.sts.restore();
});

describe('--stack prints what the local state prints, for the same data', () => {
  it('status --json', async () => {
    // Act
    const { out, text } = capture();
    const code = await status({ ...onStack, json: true }, out, deps());
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text())).toEqual(JSON.parse(local.status?.text ?? ''));
    expect(JSON.parse(text())).toContainEqual(
      expect.objectContaining({ component: 'checkout', environment: 'development' }),
    );
  });

  it('workflows list, show and watch --json', async () => {
    const id = (JSON.parse(local.publish?.text ?? '') as { workflowId: string }).workflowId;
    for (const [args, expected] of [
      [['list'], local.list],
      [['show', id], local.show],
      [['watch', id], local.watch],
    ] as const) {
      // Act
      const { out, text } = capture();
      const code = await workflows([...args], { ...onStack, json: true }, out, deps());
      // Assess
      expect(code).toBe(0);
      expect(JSON.parse(text())).toEqual(JSON.parse(expected?.text ?? ''));
    }
    expect(JSON.parse(local.show?.text ?? '')).toMatchObject({ status: 'ENDED', outcome: 'COMPLETED' });
  });

  it('policies list, get and history --json', async () => {
    for (const [args, expected] of [
      [['list'], local.policyList],
      [['get', 'development'], local.policyGet],
      [['history', 'development'], local.history],
    ] as const) {
      // Act
      const { out, text } = capture();
      const code = await policies([...args], { ...onStack, json: true }, out, deps());
      // Assess
      expect(code).toBe(0);
      expect(JSON.parse(text())).toEqual(JSON.parse(expected?.text ?? ''));
    }
    const history = JSON.parse(local.history?.text ?? '') as { comment?: string }[];
    expect(history[0]?.comment).toBe('shorter bake');
  });

  it('publish --json: the record of the workflow its event started', async () => {
    // Arrange: EventBridge answers with the id the local run's event had, so the stack's table
    // (the same data) holds the workflow that event started.
    const record = JSON.parse(local.publish?.text ?? '') as { workflowId: string };
    const { eventId } = await dynamoRecord(record.workflowId);
    mocks.eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: eventId }] });
    const { out, text } = capture();
    // Act
    const code = await publish(
      {
        ...onStack,
        component: 'checkout',
        version: '1.1.0',
        env: 'development',
        'function-version': '2',
        json: true,
      },
      out,
      deps(),
    );
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text())).toEqual(record);
    const [call] = mocks.eventBridge.commandCalls(PutEventsCommand);
    const entry = call?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: 'upshift',
      Source: 'upshift.cli',
      DetailType: 'Version Published',
    });
    expect(JSON.parse(entry?.Detail ?? '')).toEqual({
      component: 'checkout',
      version: '1.1.0',
      environment: 'development',
      artifact: { type: 'lambda', functionName: expect.any(String), functionVersion: '2' },
      labels: [],
      publishedBy: arn,
    });
  });

  it('rollback --json: the record of the rollback workflow', async () => {
    // Arrange
    const record = JSON.parse(local.rollback?.text ?? '') as { workflowId: string };
    const { eventId } = await dynamoRecord(record.workflowId);
    mocks.eventBridge.reset();
    mocks.eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: eventId }] });
    const { out, text } = capture();
    // Act
    const code = await rollback(
      { ...onStack, component: 'checkout', env: 'development', reason: 'shape test', json: true },
      out,
      deps(),
    );
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text())).toEqual(record);
    const entry = mocks.eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: 'upshift',
      Source: 'upshift.cli',
      DetailType: 'Rollback Requested',
    });
    expect(JSON.parse(entry?.Detail ?? '')).toEqual({
      component: 'checkout',
      environment: 'development',
      reason: 'shape test',
      requestedBy: arn,
    });
  });
});

/** The workflow's record as the table holds it. */
async function dynamoRecord(workflowId: string): Promise<{ eventId: string }> {
  const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
  const out = await dynamo.document.send(
    new GetCommand({ TableName: tableName, Key: { pk: `WORKFLOW#${workflowId}`, sk: 'RECORD' } }),
  );
  return { eventId: String(out.Item?.eventId) };
}
