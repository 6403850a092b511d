import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../functions/reconcile/handler';
import type { ReconcilePorts } from '../../functions/reconcile/reconcile';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { dynamoStores, type Stores } from '../../shared/aws/dynamo-store';

/**
 * What the reconciler reports each tick for self-monitoring (infra/monitoring.ts): the approvals
 * still waiting and the age of the oldest wait it read (a deployment in flight, an approval
 * pending), as EMF metrics. Real DynamoDB adapters over dynalite.
 */
const NOW = new Date('2026-12-03T12:00:00.000Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const saved = { ...process.env };
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
});

function portsFor(stores: Stores): ReconcilePorts {
  return {
    waits: stores.deploymentWaits,
    watches: stores.bakeWatches,
    approvals: stores.approvals,
    workflows: stores.workflows,
    catalog: stores.catalog,
    callbacks: { sendSuccess: async () => undefined, sendFailure: async () => undefined },
    alarms: { describe: async () => [] },
    deployer: {
      createDeployment: async () => {
        throw new Error('the reconciler creates no deployment');
      },
      getDeployment: async (deploymentId) => ({ deploymentId, status: 'InProgress' }),
      stopDeployment: async () => ({ status: 'Succeeded' }),
    },
    clock: { now: () => NOW },
    pollSeconds: 30,
    reconcileSeconds: 300,
  };
}

/** The EMF documents a tick wrote to stdout, by metric name. */
function emitted(lines: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"_aws"'))) {
    const doc = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
    };
    for (const { Name } of doc._aws.CloudWatchMetrics.flatMap((m) => m.Metrics)) {
      out.set(Name, doc[Name] as number);
    }
  }
  return out;
}

describe('the reconciler reports what is in flight', () => {
  it('emits ApprovalsWaiting and the age of the oldest open wait, in seconds', async () => {
    // Prepare: a deployment in flight since 2 h ago, an approval pending since 3 h ago (expiring
    // later), and one approval past its expiry (expired by this tick, so no longer waiting).
    const stores = dynamoStores(dynamo.document, dynamo.tableName);
    await stores.deploymentWaits.register(
      {
        deploymentId: 'd-metrics-1',
        workflowId: 'wf-deploying',
        component: 'ledger',
        environment: 'production',
        mode: 'upgrade',
        status: 'PENDING',
        registeredAt: hoursAgo(2),
        deadline: hoursAgo(-1),
      },
      'token-deploying',
    );
    const approval = (approvalId: string, requestedAt: string, expiresAt: string) => ({
      approvalId,
      workflowId: `wf-${approvalId}`,
      component: 'ledger',
      environment: 'production',
      version: '2.0.0',
      status: 'PENDING' as const,
      required: 1,
      groups: ['release-managers'],
      allowPublisher: false,
      approvers: [],
      requestedAt,
      expiresAt,
      evidence: {},
    });
    for (const id of ['waiting', 'expiring']) {
      await stores.workflows.create({
        workflowId: `wf-${id}`,
        status: 'RUNNING',
        reasons: [],
        startedAt: hoursAgo(4),
        history: [],
        evidence: {},
      });
    }
    await stores.approvals.create(approval('waiting', hoursAgo(3), hoursAgo(-21)), 'token-waiting');
    await stores.approvals.create(approval('expiring', hoursAgo(30), hoursAgo(6)), 'token-expiring');
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'upshift-reconcile';
    process.env.UPSHIFT_LOG_LEVEL = 'info';
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // Act: one tick
    const result = await createHandler(portsFor(stores))({}, {
      functionName: 'upshift-reconcile',
      awsRequestId: 'tick-1',
      getRemainingTimeInMillis: () => 60_000,
    } as never);

    // Assess: the expired approval is gone from the waiting ones; the oldest open wait is the
    // approval requested 3 h ago (older than the deployment registered 2 h ago).
    expect(result).toMatchObject({ approvalsWaiting: 1, oldestInFlightAt: hoursAgo(3) });
    const metrics = emitted(lines);
    expect(metrics.get('ApprovalsWaiting')).toBe(1);
    expect(metrics.get('OldestInFlightAge')).toBe(3 * 3600);
  });

  it('reports 0 when nothing is waiting', async () => {
    // Prepare: nothing due, nothing pending
    const stores = dynamoStores(dynamo.document, dynamo.tableName);
    const ports = portsFor(stores);
    const empty: ReconcilePorts = {
      ...ports,
      waits: { ...ports.waits, listDue: async () => ({ items: [] }) },
      approvals: { ...ports.approvals, listPending: async () => [], listUnanswered: async () => [] },
    };
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'upshift-reconcile';
    process.env.UPSHIFT_LOG_LEVEL = 'info';
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // Act
    const result = await createHandler(empty)({}, {
      functionName: 'upshift-reconcile',
      awsRequestId: 'tick-2',
      getRemainingTimeInMillis: () => 60_000,
    } as never);

    // Assess
    expect(result).toMatchObject({ approvalsWaiting: 0 });
    expect(result).not.toHaveProperty('oldestInFlightAt');
    expect(emitted(lines).get('OldestInFlightAge')).toBe(0);
  });
});
