import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { dynamoStores, type Stores } from '../../shared/aws/dynamo-store';
import type { ApprovalRecord, TaskCallbacks } from '../../shared/ports';
import {
  ApprovalAlreadyDecided,
  ApproverNotAllowed,
  decideApproval,
} from '../../shared/usecases/decide-approval';
import { expireApprovals } from '../../shared/usecases/expire-approvals';

let dynamo: LocalDynamo;
let stores: Stores;
const answers: { token: string; kind: string; payload: unknown }[] = [];
const callbacks: TaskCallbacks = {
  sendSuccess: async (token, output) => {
    answers.push({ token, kind: 'success', payload: output });
  },
  sendFailure: async (token, error) => {
    answers.push({ token, kind: 'failure', payload: error });
  },
};
let now = new Date('2026-12-02T10:00:00Z');
const clock = { now: () => now };

beforeAll(async () => {
  dynamo = await startDynalite();
  stores = dynamoStores(dynamo.document, dynamo.tableName);
});
afterAll(async () => {
  await dynamo.close();
});

async function approval(id: string, over: Partial<ApprovalRecord> = {}) {
  const workflowId = `wf-${id}`;
  await stores.workflows.create({
    workflowId,
    status: 'RUNNING',
    reasons: [],
    startedAt: 't',
    history: [],
    evidence: {},
  });
  await stores.approvals.create(
    {
      approvalId: id,
      workflowId,
      component: 'checkout',
      environment: 'production',
      version: '1.1.0',
      status: 'PENDING',
      required: 1,
      groups: [],
      allowPublisher: false,
      approvers: [],
      requestedAt: '2026-12-02T10:00:00Z',
      expiresAt: '2026-12-03T10:00:00Z',
      publishedBy: 'ci@example.com',
      evidence: {},
      ...over,
    },
    `token-${id}`,
  );
}

const ports = () => ({ approvals: stores.approvals, callbacks, workflows: stores.workflows, clock });

describe('approvals', () => {
  it('needs a quorum of distinct approvers before the execution resumes', async () => {
    await approval('q', { required: 2 });
    expect((await decideApproval({ approvalId: 'q', approve: true, by: 'ana' }, ports())).status).toBe(
      'PENDING',
    );
    expect((await decideApproval({ approvalId: 'q', approve: true, by: 'ana' }, ports())).approvers).toEqual([
      'ana',
    ]);
    expect(answers.find((a) => a.token === 'token-q')).toBeUndefined();
    const done = await decideApproval(
      { approvalId: 'q', approve: true, by: 'bob', comment: 'looks good' },
      ports(),
    );
    expect(done).toMatchObject({ status: 'APPROVED', approvers: ['ana', 'bob'] });
    expect(answers.filter((a) => a.token === 'token-q')).toEqual([
      {
        token: 'token-q',
        kind: 'success',
        payload: expect.objectContaining({ approved: true, by: 'ana, bob' }),
      },
    ]);
    await expect(
      decideApproval({ approvalId: 'q', approve: false, by: 'eve' }, ports()),
    ).rejects.toBeInstanceOf(ApprovalAlreadyDecided);
    const history = (await stores.workflows.get('wf-q'))?.history.map((h) => h.status);
    expect(history).toEqual(['VOTE', 'VOTE', 'APPROVED']);
  });

  it('refuses the publisher and approvers outside the groups', async () => {
    await approval('p', { groups: ['release-managers'] });
    await expect(
      decideApproval(
        { approvalId: 'p', approve: true, by: 'ci@example.com', groups: ['release-managers'] },
        ports(),
      ),
    ).rejects.toBeInstanceOf(ApproverNotAllowed);
    await expect(
      decideApproval({ approvalId: 'p', approve: true, by: 'ana', groups: ['devs'] }, ports()),
    ).rejects.toThrow(/not in an approver group/);
    expect(
      (
        await decideApproval(
          { approvalId: 'p', approve: true, by: 'ana', groups: ['release-managers'] },
          ports(),
        )
      ).status,
    ).toBe('APPROVED');
  });

  it('a rejection ends the approval at once', async () => {
    await approval('r', { required: 3 });
    expect(
      (await decideApproval({ approvalId: 'r', approve: false, by: 'bob', comment: 'not now' }, ports()))
        .status,
    ).toBe('REJECTED');
    expect(answers.find((a) => a.token === 'token-r')?.payload).toMatchObject({
      approved: false,
      by: 'bob',
      comment: 'not now',
    });
  });

  it('expires pending approvals past their time, once', async () => {
    await approval('e', { expiresAt: '2026-12-02T11:00:00Z' });
    now = new Date('2026-12-02T10:59:00Z');
    expect((await expireApprovals(ports())).expired).toEqual([]);
    now = new Date('2026-12-02T11:00:00Z');
    expect((await expireApprovals(ports())).expired).toEqual(['e']);
    expect((await expireApprovals(ports())).expired).toEqual([]);
    expect(answers.find((a) => a.token === 'token-e')).toEqual({
      token: 'token-e',
      kind: 'failure',
      payload: 'ApprovalExpired',
    });
  });
});
