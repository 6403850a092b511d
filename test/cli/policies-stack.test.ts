import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsDeps } from '../../cli/aws/cli-api';
import { policies } from '../../cli/commands/policies';
import { parsePolicies } from '../../shared/domain/policy';

const cfn = mockClient(CloudFormationClient);
const ddb = mockClient(DynamoDBDocumentClient);
const sts = mockClient(STSClient);
const TABLE = 'upshift-table';
const arn = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/bob';
const dir = mkdtempSync(join(tmpdir(), 'upshift-policies-stack-'));

const { policies: parsed } = parsePolicies({ production: { bakeMinutes: 10 } });
const live = parsed.production;

function deps(): AwsDeps {
  return {
    cloudFormation: new CloudFormationClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    }),
  };
}

function policyFile(document: unknown): string {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(document));
  return file;
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

beforeEach(() => {
  for (const m of [cfn, ddb, sts]) m.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'UpshiftStateless',
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [{ OutputKey: 'TableName', OutputValue: TABLE }],
      },
    ],
  });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: arn, Account: '123456789012', UserId: 'AROA:bob' });
  ddb.on(GetCommand, { TableName: TABLE, Key: { pk: 'POLICY#production', sk: 'CURRENT' } }).resolves({
    Item: {
      pk: 'POLICY#production',
      sk: 'CURRENT',
      environment: 'production',
      version: 4,
      policy: live,
      updatedBy: 'cdk deploy',
      updatedAt: '2026-11-01T00:00:00.000Z',
      gsi1pk: 'POLICIES',
      gsi1sk: 'production',
    },
  });
  ddb.on(PutCommand).resolves({});
});

afterEach(() => {
  for (const m of [cfn, ddb, sts]) m.reset();
});

describe('upshift policies put --stack NAME', () => {
  it('writes the next version item (author, time, diff, comment), then the current one, both conditionally', async () => {
    // Arrange
    const file = policyFile({ production: { bakeMinutes: 30 } });
    const { out, text } = capture();
    // Act
    const code = await policies(
      ['put'],
      { stack: 'UpshiftStateless', file, comment: 'longer bake', json: true },
      out,
      deps(),
    );
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text())).toEqual([{ environment: 'production', version: 5 }]);
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    const [versionPut, currentPut] = puts;
    expect(versionPut).toMatchObject({
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: 'POLICY#production',
        sk: 'V#000005',
        environment: 'production',
        version: 5,
        updatedBy: arn,
        comment: 'longer bake',
        changes: [{ path: 'bakeMinutes', before: 10, after: 30 }],
      },
    });
    expect((versionPut?.Item?.policy as { bakeMinutes?: number } | undefined)?.bakeMinutes).toBe(30);
    expect(Date.parse(String(versionPut?.Item?.updatedAt))).not.toBeNaN();
    expect(currentPut).toMatchObject({
      TableName: TABLE,
      Item: { pk: 'POLICY#production', sk: 'CURRENT', version: 5, updatedBy: arn, gsi1pk: 'POLICIES' },
      ConditionExpression: '#v = :prev',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':prev': 4 },
    });
  });

  it('--as names the person a shared principal writes for, next to the principal', async () => {
    // Act
    await policies(
      ['put'],
      { stack: 'UpshiftStateless', file: policyFile({ production: { bakeMinutes: 20 } }), as: 'carol' },
      () => {},
      deps(),
    );
    // Assess
    const [versionPut] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(versionPut?.Item?.updatedBy).toBe(`carol (${arn})`);
  });

  it('a put that changes nothing writes nothing', async () => {
    // Act
    const { out, text } = capture();
    await policies(
      ['put'],
      { stack: 'UpshiftStateless', file: policyFile({ production: { bakeMinutes: 10 } }) },
      out,
      deps(),
    );
    // Assess
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(text()).toBe('production: now v4\n');
  });

  it('another writer in between: the conditional write fails and nothing is applied over theirs', async () => {
    // Arrange
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    // Act / Assess
    await expect(
      policies(
        ['put'],
        { stack: 'UpshiftStateless', file: policyFile({ production: { bakeMinutes: 30 } }) },
        () => {},
        deps(),
      ),
    ).rejects.toThrow(/production changed while this put ran .*nothing of it was written/);
  });

  it('history --stack reads the versions newest first', async () => {
    // Arrange
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pk: 'POLICY#production',
          sk: 'V#000005',
          environment: 'production',
          version: 5,
          policy: live,
          updatedBy: arn,
          updatedAt: '2026-12-01T00:00:00.000Z',
          changes: [{ path: 'bakeMinutes', before: 10, after: 30 }],
        },
        {
          pk: 'POLICY#production',
          sk: 'V#000004',
          environment: 'production',
          version: 4,
          policy: live,
          updatedBy: 'cdk deploy',
          updatedAt: '2026-11-01T00:00:00.000Z',
          changes: [{ path: 'approvals.required', before: 1, after: 2 }],
        },
      ],
    });
    const { out, text } = capture();
    // Act
    const code = await policies(['history', 'production'], { stack: 'UpshiftStateless' }, out, deps());
    // Assess
    expect(code).toBe(0);
    expect(text()).toContain(`v5  2026-12-01T00:00:00.000Z  ${arn}\n    bakeMinutes: 10 -> 30`);
    expect(text()).toContain('v4  2026-11-01T00:00:00.000Z  cdk deploy\n    approvals.required: 1 -> 2');
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
      ExpressionAttributeValues: { ':pk': 'POLICY#production', ':v': 'V#' },
      ScanIndexForward: false,
      Limit: 20,
    });
  });
});
