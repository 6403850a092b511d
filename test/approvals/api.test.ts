import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/approvals-api/handler';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { dynamoStores, type Stores } from '../../shared/aws/dynamo-store';
import type { ApprovalRecord, TaskCallbacks } from '../../shared/ports';

let dynamo: LocalDynamo;
let stores: Stores;
const answers: { token: string; output: unknown }[] = [];
const callbacks: TaskCallbacks = {
  sendSuccess: async (token, output) => {
    answers.push({ token, output });
  },
  sendFailure: async (token, error) => {
    answers.push({ token, output: error });
  },
};
let now = new Date('2026-12-02T10:30:00Z');
const clock = { now: () => now };
let handler: ReturnType<typeof createHandler>;

beforeAll(async () => {
  dynamo = await startDynalite();
  stores = dynamoStores(dynamo.document, dynamo.tableName);
  handler = createHandler({ approvals: stores.approvals, workflows: stores.workflows, callbacks, clock });
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(() => {
  now = new Date('2026-12-02T10:30:00Z');
});

async function approval(id: string, over: Partial<ApprovalRecord> = {}) {
  await stores.workflows.create({
    workflowId: `wf-${id}`,
    status: 'RUNNING',
    reasons: [],
    startedAt: '2026-12-02T10:00:00Z',
    history: [],
    evidence: {},
  });
  await stores.approvals.create(
    {
      approvalId: id,
      workflowId: `wf-${id}`,
      component: 'checkout',
      environment: 'production',
      version: '1.0.1',
      status: 'PENDING',
      required: 1,
      groups: ['release-managers'],
      allowPublisher: false,
      approvers: [],
      requestedAt: '2026-12-02T10:00:00Z',
      expiresAt: '2026-12-03T10:00:00Z',
      publishedBy: 'ci@example.com',
      evidence: { risk: 'LOW' },
      ...over,
    },
    `secret-token-${id}`,
  );
}

type Who = { name: string; groups: string[] } | undefined;

/** An HTTP API (payload 2.0) event as API Gateway sends it after its JWT authorizer. */
function event(method: string, path: string, who: Who, body?: unknown, headers: Record<string, string> = {}) {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      http: { method, path },
      ...(who
        ? {
            authorizer: {
              jwt: {
                claims: { 'cognito:username': who.name, 'cognito:groups': `[${who.groups.join(' ')}]` },
              },
            },
          }
        : {}),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function call(
  method: string,
  path: string,
  who: Who,
  body?: unknown,
  headers?: Record<string, string>,
) {
  const out = (await handler(
    event(method, path, who, body, headers),
    {} as never,
  )) as APIGatewayProxyStructuredResultV2;
  return { status: out.statusCode, body: JSON.parse(String(out.body)) };
}

const alice = { name: 'alice', groups: ['release-managers'] };

/** Everything a refusal must leave as it was: the approval, the workflow's history, the execution. */
async function snapshot(id: string) {
  return {
    approval: await stores.approvals.get(id),
    workflow: await stores.workflows.get(`wf-${id}`),
    answers: answers.filter((a) => a.token === `secret-token-${id}`).length,
  };
}

describe('the decision API refuses, with a clear message and no change', () => {
  it('after expiry: 409 EXPIRED', async () => {
    // Prepare
    await approval('exp', { expiresAt: '2026-12-02T11:00:00Z' });
    now = new Date('2026-12-02T11:00:01Z');
    const before = await snapshot('exp');
    // Act
    const res = await call('POST', '/api/approvals/exp/approve', alice, { comment: 'ship it' });
    // Assess
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'EXPIRED' } } });
    expect(res.body.error.message).toMatch(/expired at 2026-12-02T11:00:00Z; nothing was changed/);
    expect(await snapshot('exp')).toEqual(before);
  });

  it('after a decision: 409 ALREADY_DECIDED, and a repeat by the same person changes nothing and says so', async () => {
    await approval('dec');
    const first = await call('POST', '/api/approvals/dec/approve', alice, { comment: 'ok' });
    expect(first).toMatchObject({ status: 200, body: { status: 'APPROVED', unchanged: false } });
    const before = await snapshot('dec');
    const bob = { name: 'bob', groups: ['release-managers'] };
    const late = await call('POST', '/api/approvals/dec/reject', bob, { comment: 'wait' });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'ALREADY_DECIDED' } } });
    expect(late.body.error.message).toMatch(/already APPROVED by alice/);
    const repeat = await call('POST', '/api/approvals/dec/approve', alice, { comment: 'ok again' });
    expect(repeat).toMatchObject({ status: 200, body: { unchanged: true, status: 'APPROVED' } });
    expect(repeat.body.message).toMatch(/alice already answered .* nothing was changed/);
    expect(await snapshot('dec')).toEqual(before);
  });

  it('outside the policy groups: 403 NOT_IN_APPROVER_GROUP', async () => {
    await approval('grp');
    const before = await snapshot('grp');
    const res = await call(
      'POST',
      '/api/approvals/grp/approve',
      { name: 'dave', groups: ['developers'] },
      { comment: 'lgtm' },
    );
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'NOT_IN_APPROVER_GROUP' } } });
    expect(res.body.error.message).toBe(
      'dave is not in an approver group of the production policy (release-managers)',
    );
    expect(await snapshot('grp')).toEqual(before);
  });

  it('the publisher under separation of duties: 403 SEPARATION_OF_DUTIES', async () => {
    await approval('sod');
    const before = await snapshot('sod');
    const res = await call(
      'POST',
      '/api/approvals/sod/approve',
      { name: 'ci@example.com', groups: ['release-managers'] },
      { comment: 'mine' },
    );
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'SEPARATION_OF_DUTIES' } } });
    expect(res.body.error.message).toMatch(/ci@example.com published checkout 1.0.1 to production/);
    expect(await snapshot('sod')).toEqual(before);
  });

  it('no identity: 401 NO_IDENTITY, whatever the headers say', async () => {
    await approval('anon');
    const before = await snapshot('anon');
    const res = await call(
      'POST',
      '/api/approvals/anon/approve',
      undefined,
      { comment: 'ok' },
      {
        'x-user': 'alice',
        'x-groups': 'release-managers',
      },
    );
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'NO_IDENTITY' } } });
    expect((await call('GET', '/api/approvals', undefined)).status).toBe(401);
    expect(await snapshot('anon')).toEqual(before);
  });

  it('a forged identity in the body: 400 IDENTITY_IN_BODY, even from a signed-in person', async () => {
    await approval('forge');
    const before = await snapshot('forge');
    const dave = { name: 'dave', groups: ['developers'] };
    const res = await call('POST', '/api/approvals/forge/approve', dave, {
      comment: 'ok',
      by: 'alice',
      groups: ['release-managers'],
    });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'IDENTITY_IN_BODY' } } });
    expect(res.body.error.message).toMatch(/by, groups.*never from the body; nothing was changed/);
    expect(await snapshot('forge')).toEqual(before);
  });

  it('a missing comment: 400 with the field', async () => {
    await approval('nocomment');
    const res = await call('POST', '/api/approvals/nocomment/approve', alice, {});
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY' } } });
    expect(res.body.error.message).toMatch(/comment/);
  });
});

describe('the decision API answers', () => {
  it('lists pending approvals with filters and shows one with its evidence, never a token', async () => {
    await approval('list-a');
    await approval('list-b', { component: 'pricing', environment: 'staging' });
    const all = await call('GET', '/api/approvals', alice);
    expect(all.status).toBe(200);
    const ids = all.body.approvals.map((a: { id: string }) => a.id);
    expect(ids).toEqual(expect.arrayContaining(['list-a', 'list-b']));
    const handlerEvent = event('GET', '/api/approvals', alice);
    handlerEvent.queryStringParameters = { component: 'pricing', environment: 'staging' };
    const filtered = (await handler(handlerEvent, {} as never)) as APIGatewayProxyStructuredResultV2;
    expect(JSON.parse(String(filtered.body)).approvals.map((a: { id: string }) => a.id)).toEqual(['list-b']);
    const one = await call('GET', '/api/approvals/list-a', alice);
    expect(one.body).toMatchObject({
      approval: { id: 'list-a', status: 'PENDING', risk: 'LOW' },
      you: { name: 'alice', mayAnswer: true },
    });
    expect(JSON.stringify([all, filtered, one])).not.toMatch(/secret-token/);
  });

  it('counts distinct approvers for a quorum', async () => {
    await approval('quorum', { required: 2 });
    const a = await call('POST', '/api/approvals/quorum/approve', alice, { comment: 'one' });
    expect(a.body).toMatchObject({
      status: 'PENDING',
      approvers: ['alice'],
      message: expect.stringMatching(/1 of 2/),
    });
    const again = await call('POST', '/api/approvals/quorum/approve', alice, { comment: 'one more' });
    expect(again.body).toMatchObject({ status: 'PENDING', unchanged: true, approvers: ['alice'] });
    const b = await call(
      'POST',
      '/api/approvals/quorum/approve',
      { name: 'bob', groups: ['release-managers'] },
      { comment: 'two' },
    );
    expect(b.body).toMatchObject({ status: 'APPROVED', approvers: ['alice', 'bob'] });
    expect(answers.filter((x) => x.token === 'secret-token-quorum')).toHaveLength(1);
  });
});

describe('the upgrades list: traffic of a shift in flight, or why it is not shown', () => {
  it('a target in another account is not read and says so; a read that fails says what failed', async () => {
    // Arrange: three shifts in flight; the deployer reads only deployments of the pipeline's account.
    const asked: string[] = [];
    const deployments = {
      getDeployment: async (deploymentId: string) => {
        asked.push(deploymentId);
        if (deploymentId === 'd-GONE') {
          throw Object.assign(new Error('There is no deployment with the ID d-GONE'), {
            name: 'DeploymentDoesNotExistException',
          });
        }
        return { deploymentId, status: 'InProgress' as const };
      },
    };
    const api = createHandler({
      approvals: stores.approvals,
      workflows: stores.workflows,
      callbacks,
      clock,
      deployments,
    });
    const shifts = {
      'wf-traffic-away': 'd-AWAY@111122223333:eu-central-1:upshift-checkout-production',
      'wf-traffic-here': 'd-HERE',
      'wf-traffic-gone': 'd-GONE',
    };
    for (const [workflowId, deploymentId] of Object.entries(shifts)) {
      await stores.workflows.create({
        workflowId,
        status: 'RUNNING',
        reasons: [],
        startedAt: '2026-12-02T10:20:00Z',
        history: [],
        evidence: { deployment: { deploymentId } },
      });
    }
    const request = event('GET', '/api/workflows', alice);
    request.queryStringParameters = { limit: '100' };
    // Act
    const out = (await api(request, {} as never)) as APIGatewayProxyStructuredResultV2;
    // Assess
    const rows = JSON.parse(String(out.body)).workflows as {
      workflowId: string;
      trafficPercent: number | null;
      trafficUnavailable: string | null;
    }[];
    const row = (id: string) => rows.find((r) => r.workflowId === id);
    expect(out.statusCode).toBe(200);
    expect(row('wf-traffic-away')).toMatchObject({
      trafficPercent: null,
      trafficUnavailable: 'traffic not available for targets in another account (111122223333)',
    });
    expect(row('wf-traffic-here')).toMatchObject({
      trafficPercent: null,
      trafficUnavailable: 'no traffic % reported (deployment InProgress)',
    });
    expect(row('wf-traffic-gone')).toMatchObject({
      trafficPercent: null,
      trafficUnavailable:
        'traffic could not be read: DeploymentDoesNotExistException: There is no deployment with the ID d-GONE',
    });
    // The deployment in the other account was never asked for (no AssumeRole, no AccessDenied).
    expect(asked.sort()).toEqual(['d-GONE', 'd-HERE']);
  });
});
