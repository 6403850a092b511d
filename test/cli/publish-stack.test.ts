import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadCatalog } from '../../cli/catalog-file';
import type { WorkflowRecord } from '../../shared/domain/workflow';
import { runCli as cli } from '../support/cli';

const cfn = mockClient(CloudFormationClient);
const eventBridge = mockClient(EventBridgeClient);
const sts = mockClient(STSClient);
const ddb = mockClient(DynamoDBDocumentClient);
const arn = 'arn:aws:sts::123456789012:assumed-role/Deployer/alice';
const checkout = loadCatalog(undefined).components.checkout;

const completed: WorkflowRecord = {
  workflowId: 'wf-01',
  status: 'ENDED',
  outcome: 'COMPLETED',
  reasons: [{ code: 'DEPLOYED', message: 'checkout 1.4.0 serves 100% in staging' }],
  component: 'checkout',
  environment: 'staging',
  version: '1.4.0',
  source: 'upshift.cli',
  eventId: 'evt-1234',
  startedAt: '2026-12-02T10:00:00.000Z',
  endedAt: '2026-12-02T10:16:00.000Z',
  history: [{ stage: 'INTAKE', at: '2026-12-02T10:00:00.000Z', status: 'ACCEPTED', detail: '' }],
  evidence: {},
};

beforeEach(() => {
  // The caller's environment, as the SDK's default chain reads it.
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  vi.stubEnv('AWS_PROFILE', '');
  for (const mock of [cfn, eventBridge, sts, ddb]) mock.reset();
  cfn.on(DescribeStacksCommand, { StackName: 'UpshiftStateless' }).resolves({
    Stacks: [
      {
        StackName: 'UpshiftStateless',
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'TableName', OutputValue: 'upshift-table' },
          { OutputKey: 'EventBusName', OutputValue: 'upshift-bus' },
          {
            OutputKey: 'StateMachineArn',
            OutputValue: 'arn:aws:states:eu-west-1:123456789012:stateMachine:x',
          },
        ],
      },
    ],
  });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: arn, Account: '123456789012', UserId: 'AROA:alice' });
  // DynamoDB answers a key that holds no item with no Item.
  ddb.on(GetCommand).resolves({});
  ddb
    .on(GetCommand, { TableName: 'upshift-table', Key: { pk: 'CATALOG', sk: 'COMPONENT#checkout' } })
    .resolves({ Item: { pk: 'CATALOG', sk: 'COMPONENT#checkout', component: checkout } });
  ddb
    .on(QueryCommand, { TableName: 'upshift-table', IndexName: 'gsi1' })
    .resolves({ Items: [{ pk: 'WORKFLOW#wf-01', sk: 'RECORD', ...completed, gsi1pk: 'WORKFLOWS' }] });
  ddb
    .on(GetCommand, { TableName: 'upshift-table', Key: { pk: 'WORKFLOW#wf-01', sk: 'RECORD' } })
    .resolves({ Item: { pk: 'WORKFLOW#wf-01', sk: 'RECORD', ...completed } });
});

afterEach(() => {
  vi.unstubAllEnvs();
  for (const mock of [cfn, eventBridge, sts, ddb]) mock.reset();
});

const publishArgs = [
  'publish',
  '--stack',
  'UpshiftStateless',
  '--component',
  'checkout',
  '--version',
  '1.4.0',
  '--env',
  'staging',
  '--function-version',
  '9',
  '--label',
  'security',
];

describe('upshift --stack NAME publish', () => {
  it('reads the stack’s outputs and sends the Version Published entry CI would send', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1234' }] });
    // Act
    const { code, text, err } = await cli([...publishArgs, '--json']);
    // Assess
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(cfn.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: 'UpshiftStateless',
    });
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    const functionName =
      checkout?.environments.staging?.target?.type === 'lambda'
        ? checkout.environments.staging.target.functionName
        : checkout?.target.type === 'lambda'
          ? checkout.target.functionName
          : undefined;
    expect(input).toEqual({
      Entries: [
        {
          EventBusName: 'upshift-bus',
          Source: 'upshift.cli',
          DetailType: 'Version Published',
          Detail: JSON.stringify({
            component: 'checkout',
            version: '1.4.0',
            environment: 'staging',
            artifact: { type: 'lambda', functionName, functionVersion: '9' },
            labels: ['security'],
            publishedBy: arn,
          }),
          Resources: [],
        },
      ],
    });
    // The workflow is the one Intake recorded with the event's id, printed as locally.
    expect(JSON.parse(text)).toEqual({
      workflowId: 'wf-01',
      status: 'ENDED',
      outcome: 'COMPLETED',
      reasons: completed.reasons,
      component: 'checkout',
      version: '1.4.0',
      environment: 'staging',
      startedAt: completed.startedAt,
      endedAt: completed.endedAt,
      history: completed.history,
    });
  });

  it('a failed entry is reported with its code, and nothing is said to have started (exit 2)', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized to put events' }],
    });
    // Act
    const { code, text, err } = await cli(publishArgs);
    // Assess
    expect(code).toBe(2);
    expect(text).toBe('');
    expect(err).toContain('EventBridge did not take the event on bus upshift-bus, so nothing started');
    expect(err).toContain('AccessDeniedException: not authorized to put events');
    expect(err).toContain('events:PutEvents');
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it('a throttled entry says that running it again may work', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    });
    // Act
    const { code, err } = await cli(publishArgs);
    // Assess
    expect(code).toBe(2);
    expect(err).toContain('ThrottlingException');
    expect(err).toContain('a transient failure: run the command again');
  });

  it('needs --function-version on a stack, names an unknown component, refuses local flags', async () => {
    // Act
    const noVersion = await cli(publishArgs.filter((a) => a !== '--function-version' && a !== '9'));
    const unknown = await cli([...publishArgs.slice(0, 4), 'nosuch', ...publishArgs.slice(5)]);
    const withState = await cli([...publishArgs, '--state', '.upshift/x']);
    const withApprove = await cli([...publishArgs, '--approve']);
    // Assess
    expect(noVersion.code).toBe(2);
    expect(noVersion.err).toContain('--function-version N is required');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no component "nosuch" in the catalog of stack UpshiftStateless');
    expect(withState.code).toBe(2);
    expect(withState.err).toContain('--state and --stack exclude each other');
    expect(withApprove.code).toBe(2);
    expect(withApprove.err).toContain('upshift approvals list --stack UpshiftStateless');
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('a stack without the bus output is named, with what it has', async () => {
    // Arrange
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'UpshiftStateful',
          CreationTime: new Date(0),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'TableName', OutputValue: 'upshift-table' }],
        },
      ],
    });
    // Act
    const { code, err } = await cli(publishArgs);
    // Assess
    expect(code).toBe(2);
    expect(err).toContain('the stack has no output "EventBusName" (it has TableName)');
  });
});

describe('publish --stack finds the workflow its event started', () => {
  const item = (r: WorkflowRecord) => ({
    pk: `WORKFLOW#${r.workflowId}`,
    sk: 'RECORD',
    ...r,
    gsi1pk: 'WORKFLOWS',
    gsi1sk: `${r.startedAt}#${r.workflowId}`,
  });
  const other = (i: number): WorkflowRecord => ({
    ...completed,
    workflowId: `wf-other-${String(i).padStart(2, '0')}`,
    component: 'search',
    eventId: `evt-other-${i}`,
  });
  /** Intake's skip, naming the holder in its `holder` field (the message's wording is for people). */
  const duplicateOf = (owner: string, workflowId = 'wf-dup'): WorkflowRecord => ({
    ...completed,
    workflowId,
    outcome: 'SKIPPED',
    reasons: [
      {
        code: 'DUPLICATE',
        message: 'checkout 1.4.0 in staging: another workflow has it',
        holder: { workflowId: owner },
      },
    ],
    startedAt: '2026-12-02T10:00:01.000Z',
    endedAt: '2026-12-02T10:00:02.000Z',
  });

  /** The gsi1 listing in pages of `size` (oldest first), as DynamoDB pages a Query. */
  function listing(records: WorkflowRecord[], size: number) {
    ddb.on(QueryCommand, { TableName: 'upshift-table', IndexName: 'gsi1' }).callsFake((input) => {
      const sorted = [...records].sort((a, b) =>
        `${a.startedAt}#${a.workflowId}`.localeCompare(`${b.startedAt}#${b.workflowId}`),
      );
      const ordered = input.ScanIndexForward === false ? sorted.reverse() : sorted;
      const start = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.at) : 0;
      const limit = Math.min(size, input.Limit ?? size);
      const page = ordered.slice(start, start + limit);
      return {
        Items: page.map(item),
        ...(start + limit < ordered.length && input.Limit === undefined
          ? { LastEvaluatedKey: { at: start + limit } }
          : {}),
      };
    });
    for (const r of records) {
      ddb
        .on(GetCommand, { TableName: 'upshift-table', Key: { pk: `WORKFLOW#${r.workflowId}`, sk: 'RECORD' } })
        .resolves({ Item: { pk: `WORKFLOW#${r.workflowId}`, sk: 'RECORD', ...r } });
    }
  }

  it('an event delivered twice: the working workflow, not the DUPLICATE skip, across more than 20 workflows', async () => {
    // Arrange: the duplicate delivery started after the real one; 25 other workflows since.
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1234' }] });
    const others = Array.from({ length: 25 }, (_, i) => ({
      ...other(i),
      startedAt: `2026-12-02T10:01:${String(i).padStart(2, '0')}.000Z`,
    }));
    listing([completed, duplicateOf('wf-01'), ...others], 10);
    // Act
    const { code, text, err } = await cli([...publishArgs, '--json']);
    // Assess
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({ workflowId: 'wf-01', outcome: 'COMPLETED' });
    // The listing is read from a little before the publish, every page, oldest first.
    const queries = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries[0]).toMatchObject({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
      ScanIndexForward: true,
    });
    expect(queries.some((q) => q.ExclusiveStartKey)).toBe(true);
  });

  it('only the duplicate recorded yet: the workflow holding the version is read, and shown when it is this event’s', async () => {
    // Arrange: the listing has only the skip; the holder (same event) is read by its id.
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1234' }] });
    listing([duplicateOf('wf-01'), ...Array.from({ length: 21 }, (_, i) => other(i))], 100);
    ddb
      .on(GetCommand, { TableName: 'upshift-table', Key: { pk: 'WORKFLOW#wf-01', sk: 'RECORD' } })
      .resolves({ Item: { pk: 'WORKFLOW#wf-01', sk: 'RECORD', ...completed } });
    // Act
    const { code, text } = await cli([...publishArgs, '--json']);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({ workflowId: 'wf-01', outcome: 'COMPLETED' });
  });

  it('a skip recorded before the holder field: the holder named in its message is read', async () => {
    // Arrange: only the message names the holder (Intake's wording then), no `holder` field.
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1234' }] });
    const legacy: WorkflowRecord = {
      ...duplicateOf('unused'),
      reasons: [{ code: 'DUPLICATE', message: 'checkout 1.4.0 in staging is already handled by wf-01' }],
    };
    listing([legacy], 100);
    ddb
      .on(GetCommand, { TableName: 'upshift-table', Key: { pk: 'WORKFLOW#wf-01', sk: 'RECORD' } })
      .resolves({ Item: { pk: 'WORKFLOW#wf-01', sk: 'RECORD', ...completed } });
    // Act
    const { code, text } = await cli([...publishArgs, '--json']);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({ workflowId: 'wf-01', outcome: 'COMPLETED' });
  });

  it('a version already in flight under another event: this event’s own DUPLICATE workflow is shown', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1234' }] });
    const earlier = { ...completed, workflowId: 'wf-earlier', eventId: 'evt-earlier' };
    listing([earlier, duplicateOf('wf-earlier')], 100);
    // Act
    const { code, text } = await cli([...publishArgs, '--json']);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({
      workflowId: 'wf-dup',
      outcome: 'SKIPPED',
      reasons: [{ code: 'DUPLICATE' }],
    });
  });
});

describe('upshift --stack NAME rollback', () => {
  it('sends Rollback Requested with the caller as requester', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1234' }] });
    // Act
    const { code } = await cli([
      'rollback',
      '--stack',
      'UpshiftStateless',
      '--component',
      'checkout',
      '--env',
      'staging',
      '--to',
      '1.0.0',
      '--reason',
      'errors after the bake',
      '--json',
    ]);
    // Assess
    expect(code).toBe(0);
    expect(eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries).toEqual([
      {
        EventBusName: 'upshift-bus',
        Source: 'upshift.cli',
        DetailType: 'Rollback Requested',
        Detail: JSON.stringify({
          component: 'checkout',
          environment: 'staging',
          toVersion: '1.0.0',
          reason: 'errors after the bake',
          requestedBy: arn,
        }),
        Resources: [],
      },
    ]);
  });
});
