import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import ecrPush from '../fixtures/events/ecr-image-push.json';
import { versionPublished } from '../support/events';

/**
 * Each function's AWS calls, as IAM actions: the one list a reviewer reads to see what a function
 * may do. The test below holds it to both sides: every call a function makes through the twin is
 * on its list, and its role grants exactly the list (plus its own logs and X-Ray). A new SDK call
 * fails here until it is added to the list and granted; a grant nobody calls fails here too.
 */
const needs: Record<string, string[]> = {
  Intake: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
    'events:PutEvents',
    'codedeploy:GetDeployment',
    'codedeploy:StopDeployment',
    'states:SendTaskSuccess',
    'states:SendTaskFailure',
    'states:SendTaskHeartbeat',
  ],
  Lock: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
  ],
  Verify: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'lambda:InvokeFunction', 's3:PutObject'],
  Decide: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:UpdateItem',
    'events:PutEvents',
    'cloudwatch:DescribeAlarms',
  ],
  RequestApproval: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'events:PutEvents'],
  Deploy: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'codedeploy:CreateDeployment',
    'codedeploy:UpdateDeploymentGroup',
    'codedeploy:ListDeployments',
    'codedeploy:BatchGetDeployments',
    'codedeploy:GetDeploymentConfig',
    'codedeploy:RegisterApplicationRevision',
    'codedeploy:GetApplicationRevision',
    'ecs:DescribeTaskDefinition',
    'ecs:RegisterTaskDefinition',
    'ecs:TagResource',
    'iam:PassRole',
  ],
  CheckDeployment: [
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'codedeploy:GetDeployment',
    'codedeploy:StopDeployment',
    'cloudwatch:DescribeAlarms',
  ],
  AwaitDeployment: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'codedeploy:GetDeployment',
    'codedeploy:StopDeployment',
    'cloudwatch:DescribeAlarms',
    'states:SendTaskSuccess',
    'states:SendTaskFailure',
    'states:SendTaskHeartbeat',
  ],
  StartBake: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:UpdateItem',
    'cloudwatch:DescribeAlarms',
    'states:SendTaskSuccess',
    'states:SendTaskFailure',
    'states:SendTaskHeartbeat',
  ],
  FinalBakeCheck: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'cloudwatch:DescribeAlarms'],
  Record: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:UpdateItem',
    'events:PutEvents',
  ],
  DeploymentEvents: [
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'codedeploy:GetDeployment',
    'codedeploy:StopDeployment',
    'cloudwatch:DescribeAlarms',
    'states:SendTaskSuccess',
    'states:SendTaskFailure',
    'states:SendTaskHeartbeat',
  ],
  AlarmEvents: [
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'cloudwatch:DescribeAlarms',
    'states:SendTaskSuccess',
    'states:SendTaskFailure',
    'states:SendTaskHeartbeat',
  ],
  Reconcile: [
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
    'codedeploy:GetDeployment',
    'codedeploy:StopDeployment',
    'cloudwatch:DescribeAlarms',
    'states:SendTaskSuccess',
    'states:SendTaskFailure',
    'states:SendTaskHeartbeat',
  ],
  SeedPolicies: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  ExecutionEnded: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
    'codedeploy:GetDeployment',
    'codedeploy:StopDeployment',
    'events:PutEvents',
  ],
};

/** Functions of the approvals construct (infra/approvals.ts), whose grants its own tests check. */
const grantedElsewhere = new Set(['ApprovalsApi', 'ApprovalReminders']);

/** What every function's role holds besides its work: its own log group and X-Ray. */
const housekeeping = /^(logs:(CreateLogStream|PutLogEvents)|xray:.*)$/;

/** The SDK command a call is, as its IAM action (the command names are the actions' names). */
const actionOf = (service: string, command: string) =>
  command === 'Invoke' ? `${service}:InvokeFunction` : `${service}:${command}`;

let stack: LocalStack;
const called = new Map<string, Set<string>>();

beforeAll(async () => {
  // Prepare: the demo app on the twin, every call recorded, through the paths that call the most.
  stack = await LocalStack.start({
    startAt: new Date('2026-12-02T10:00:00Z'),
    catalog: parseCatalog(demoCatalog),
    autoAnswer: { approve: true, by: 'ana@example.com' },
  });
  stack.transport.record(true);
  await stack.run(versionPublished({ version: '1.1.0', environment: 'development' }));
  await stack.run(versionPublished({ version: '1.2.0', environment: 'staging' }));
  await stack.run(versionPublished({ version: '1.3.0', environment: 'staging' }));
  await stack.run(versionPublished({ version: '1.1.0', environment: 'production' }));
  await stack.run(ecrPush);
  await stack.run({
    version: '0',
    id: 'rb-grants',
    'detail-type': 'Rollback Requested',
    source: 'ops.test',
    account: '123456789012',
    time: '2026-12-02T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      component: 'checkout',
      environment: 'development',
      reason: 'grants test',
      requestedBy: 'oncall@example.com',
    },
  });
  await stack.drain();
  for (const call of stack.transport.calls) {
    const actions = called.get(call.caller) ?? new Set<string>();
    actions.add(actionOf(call.service, call.command));
    called.set(call.caller, actions);
  }
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

/** Every Allow action of the function's role, from the synthesized template. */
function granted(functionName: string): Set<string> {
  const fn = [...stack.functions.values()].find((f) => f.name === functionName);
  const role = fn ? stack.model.roles.get(fn.roleArn) : undefined;
  const actions = new Set<string>();
  for (const document of role?.documents ?? []) {
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      const list = statement.Action === undefined ? [] : [statement.Action].flat();
      for (const action of list) actions.add(String(action));
    }
  }
  return actions;
}

describe('each function is granted exactly what it calls', () => {
  it('records calls of the pipeline functions, none denied', () => {
    // Assess
    expect([...called.keys()].filter((c) => c in needs).length).toBeGreaterThanOrEqual(12);
    expect(stack.transport.calls.filter((c) => c.denied)).toEqual([]);
  });

  it.each(Object.keys(needs))('%s calls only actions on its list', (name) => {
    // Assess: a call missing from the list is a new call that needs its grant reviewed here.
    const extra = [...(called.get(name) ?? [])].filter((a) => !needs[name]?.includes(a));
    expect(extra).toEqual([]);
  });

  it.each(Object.keys(needs))('%s has every action on its list granted, and nothing else', (name) => {
    // Assess
    const grants = [...granted(name)].filter((a) => !housekeeping.test(a)).sort();
    expect(grants).toEqual([...(needs[name] ?? [])].sort());
  });

  it('every pipeline function is on the list', () => {
    // Assess
    const names = [...stack.functions.values()].map((f) => f.name);
    expect(names.filter((n) => !(n in needs) && !grantedElsewhere.has(n))).toEqual([]);
  });
});
