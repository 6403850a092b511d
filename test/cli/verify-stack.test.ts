import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../cli/catalog-file';
import { verifyCommand } from '../../cli/commands/verify';
import { keys } from '../../shared/aws/dynamo-store';

const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const db = mockClient(DynamoDBDocumentClient);

const catalog = loadCatalog(undefined);
const pricing = catalog.components.pricing;
if (!pricing) throw new Error('the demo catalog has no pricing component');
const probe = pricing.probes.requests[0];
if (!probe) throw new Error('pricing declares no probes');
/** The deployed catalog's item: pricing with its first probe only. */
const component = { ...pricing, probes: { ...pricing.probes, requests: [probe] } };
const staging = catalog.policies.staging;

function cloudFormation() {
  return new CloudFormationClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
}

/** A log tail whose REPORT line gives the function's duration. */
function tail(ms: number): string {
  return Buffer.from(
    `START RequestId: r\nREPORT RequestId: r\tDuration: ${ms} ms\tBilled Duration: 13 ms\n`,
  ).toString('base64');
}

beforeEach(() => {
  for (const mock of [cfn, lambda, db]) mock.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'UpshiftStateless',
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'TableName', OutputValue: 'upshift-table' },
          { OutputKey: 'EventBusName', OutputValue: 'upshift' },
        ],
      },
    ],
  });
  db.on(GetCommand).resolves({});
  db.on(GetCommand, { TableName: 'upshift-table', Key: keys.catalogComponent('pricing') }).resolves({
    Item: { ...keys.catalogComponent('pricing'), component },
  });
  db.on(GetCommand, { TableName: 'upshift-table', Key: keys.policy('staging') }).resolves({
    Item: {
      ...keys.policy('staging'),
      environment: 'staging',
      version: 1,
      policy: staging,
      updatedBy: 'ci',
      updatedAt: '2026-12-01T00:00:00.000Z',
    },
  });
  lambda.on(InvokeCommand).resolves({
    StatusCode: 200,
    Payload: new TextEncoder().encode(JSON.stringify({ total: 9, currency: 'EUR' })) as never,
    LogResult: tail(12.5),
  });
});
afterEach(() => {
  for (const mock of [cfn, lambda, db]) mock.reset();
});

describe('upshift verify --stack', () => {
  it('invokes the candidate and the serving version by qualifier, as the caller, and prints { verdict, checks }', async () => {
    // Arrange
    let text = '';
    // Act
    const code = await verifyCommand(
      {
        stack: 'UpshiftStateless',
        component: 'pricing',
        candidate: '2.1.0',
        'function-version': '7',
        env: 'staging',
        json: true,
      },
      (s) => {
        text += s;
      },
      { cloudFormation: cloudFormation() },
    );
    // Assess
    expect(code).toBe(0);
    const json = JSON.parse(text) as {
      verdict: string;
      candidate: string;
      baseline: string;
      checks: { probe: string; kind: string; severity: string; status: string; reasons: string[] }[];
    };
    expect(json.verdict).toBe('PASS');
    expect(json.candidate).toBe('2.1.0');
    expect(json.baseline).toBe('2.0.0');
    expect(json.checks.length).toBeGreaterThan(0);
    for (const check of json.checks) expect(check).toMatchObject({ probe: probe.name, status: 'PASS' });
    // A functional probe's rows, its latency row being a performance row (docs/verification.md).
    expect(new Set(json.checks.map((c) => c.kind))).toEqual(new Set(['functional', 'performance']));
    const invokes = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    const sent = (qualifier: string) => invokes.filter((i) => i.Qualifier === qualifier);
    expect(sent('7')).toHaveLength(pricing.probes.samples);
    expect(sent('1')).toHaveLength(pricing.probes.samples);
    expect(invokes).toHaveLength(2 * pricing.probes.samples);
    expect(sent('7')[0]).toMatchObject({ FunctionName: 'pricing', Qualifier: '7', LogType: 'Tail' });
    expect(JSON.parse(new TextDecoder().decode(sent('7')[0]?.Payload as Uint8Array))).toEqual(probe.payload);
    expect(sent('1')[0]).toMatchObject({ FunctionName: 'pricing', Qualifier: '1' });
    // The catalog came from the stack's table (TableName output).
    const gets = db.commandCalls(GetCommand).map((c) => c.args[0].input);
    expect(gets).toContainEqual(
      expect.objectContaining({ TableName: 'upshift-table', Key: keys.catalogComponent('pricing') }),
    );
  });

  it('a Lambda candidate needs --function-version: one line naming it', async () => {
    // Act
    const run = verifyCommand(
      { stack: 'UpshiftStateless', component: 'pricing', candidate: '2.1.0' },
      () => {},
      { cloudFormation: cloudFormation() },
    );
    // Assess
    await expect(run).rejects.toThrow('--function-version N is required');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('a component the stack’s catalog lacks is a usage error', async () => {
    // Act
    const run = verifyCommand(
      { stack: 'UpshiftStateless', component: 'nope', candidate: '1.0.0', 'function-version': '2' },
      () => {},
      { cloudFormation: cloudFormation() },
    );
    // Assess
    await expect(run).rejects.toThrow('verify: no component "nope" in the catalog of stack UpshiftStateless');
  });
});
