import { afterEach, describe, expect, it, vi } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { heldSchema, leaseSchema, supersededSchema } from '../../functions/lock/schema';
import type { StateTransition } from '../../local/engine';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';
import { deployments } from '../support/twin';

/**
 * Lock answers "another upgrade holds the lock" and "a newer version supersedes this one" as its
 * result, not as a thrown error: a thrown error is a Lambda function error (`FunctionError` in
 * Invoke's answer, the `Errors` metric the FunctionErrors alarm watches), and waiting in line is
 * not a failure. These runs watch what the Lambda API answered the state machine for every
 * invocation of the Lock function, and the states the execution went through.
 */
const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
  vi.restoreAllMocks();
});

interface LockInvocation {
  input: Record<string, unknown>;
  functionError?: string;
  payload: unknown;
}

/** A twin whose Lambda API answers to the Lock function are kept, as Invoke returned them. */
async function open() {
  const s = await LocalStack.start({ catalog: parseCatalog(demoCatalog), startAt: START });
  stack = s;
  const fn = [...s.functions.values()].find((f) => f.name === 'Lock');
  if (!fn) throw new Error('the twin has no Lock function');
  const invocations: LockInvocation[] = [];
  const handle = s.lambda.handle.bind(s.lambda);
  vi.spyOn(s.lambda, 'handle').mockImplementation(async (command, input, caller) => {
    const output = await handle(command, input, caller);
    const name = String(input.FunctionName);
    if (command === 'Invoke' && (name === fn.arn || name === fn.functionName)) {
      invocations.push({
        input: JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)),
        ...(output.FunctionError ? { functionError: String(output.FunctionError) } : {}),
        payload: JSON.parse(new TextDecoder().decode(output.Payload as Uint8Array)),
      });
    }
    return output;
  });
  const transitions: StateTransition[] = [];
  s.engine.onTransition((t) => transitions.push(t));
  return { s, invocations, transitions, lockArn: fn.arn };
}

function of(execution: string, transitions: StateTransition[]) {
  return transitions.filter((t) => t.execution === execution);
}

function invocationsOf(workflowId: string, invocations: LockInvocation[]) {
  return invocations.filter((i) => i.input.workflowId === workflowId);
}

describe('Lock: the expected outcomes are results, not function errors', () => {
  it('happy path: Lock returns the lease, and the upgrade still takes 17 state transitions', async () => {
    // Prepare
    const { s, invocations, transitions } = await open();

    // Act
    const { execution, record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const mine = invocationsOf(execution.name, invocations);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.functionError).toBeUndefined();
    expect(leaseSchema.strict().parse(mine[0]?.payload)).toMatchObject({
      key: 'checkout#staging',
      owner: execution.name,
    });
    // docs/deploy.md: 17 transitions for the whole upgrade, whatever the shift's length.
    expect(execution.transitions).toBe(17);
    expect(of(execution.name, transitions).filter((t) => t.phase === 'entered')).toHaveLength(17);
  });

  it('queued behind another upgrade: Lock answers `held` without a function error, and the upgrade waits, then deploys', async () => {
    // Prepare: 1.1.0 is shifting when 1.1.1 arrives a minute later.
    const { s, invocations, transitions } = await open();
    const first = s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
    let second: Promise<{ name: string }> | undefined;
    s.scheduler.at(START.getTime() + 60_000, () => {
      second = s.startExecution(versionPublished({ version: '1.1.1', environment: 'staging' }));
    });

    // Act
    const a = await first;
    await s.drain();
    const b = await (second as Promise<{ name: string }>);

    // Assess: every Lock invocation of the waiting upgrade answered without a function error; the
    // ones before the lock was free said who held it, the last one is the lease.
    const waits = invocationsOf(b.name, invocations);
    expect(waits.length).toBeGreaterThan(1);
    expect(waits.filter((i) => i.functionError !== undefined)).toEqual([]);
    for (const held of waits.slice(0, -1)) {
      expect(heldSchema.strict().parse(held.payload)).toMatchObject({ held: true, holder: a.name });
    }
    expect(leaseSchema.strict().parse(waits.at(-1)?.payload)).toMatchObject({ owner: b.name });
    expect(invocations.filter((i) => i.functionError !== undefined)).toEqual([]);

    // The wait loop as before: one lock attempt counted per `held`, a minute's wait, and no
    // state failed on the way.
    const states = of(b.name, transitions);
    expect(states.filter((t) => t.phase === 'failed')).toEqual([]);
    const entered = states.filter((t) => t.phase === 'entered').map((t) => t.state);
    expect(entered.filter((n) => n === 'CountLockAttempt')).toHaveLength(waits.length - 1);
    expect(entered.filter((n) => n === 'WaitForLock')).toHaveLength(waits.length - 1);
    expect(entered.filter((n) => n === 'Lock')).toHaveLength(waits.length);

    // Both deployed, in order; the waiter's history is an ordinary upgrade's.
    expect((await s.stores.workflows.get(a.name))?.outcome).toBe('COMPLETED');
    const waiter = await s.stores.workflows.get(b.name);
    expect(waiter?.outcome).toBe('COMPLETED');
    expect(waiter?.history.filter((h) => h.stage === 'Lock').map((h) => h.status)).toEqual(['ACQUIRED']);
    expect(deployments(s).map((d) => d.toVersion)).toEqual(['1.1.0', '1.1.1']);
    expect(await s.stores.locks.waiting('checkout#staging', s.scheduler.now())).toEqual([]);
    expect(await s.stores.locks.get('checkout#staging')).toBeUndefined();
  });

  it('superseded by a newer upgrade in flight: Lock answers `superseded` without a function error; SKIPPED as before', async () => {
    // Prepare: 1.1.1 is shifting when 1.1.0 arrives a minute later.
    const { s, invocations, transitions } = await open();
    const newer = s.startExecution(versionPublished({ version: '1.1.1', environment: 'staging' }));
    let older: Promise<{ name: string }> | undefined;
    s.scheduler.at(START.getTime() + 60_000, () => {
      older = s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
    });

    // Act
    const a = await newer;
    await s.drain();
    const b = await (older as Promise<{ name: string }>);

    // Assess: one Lock invocation, its answer the reason, no function error.
    const mine = invocationsOf(b.name, invocations);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.functionError).toBeUndefined();
    const { superseded } = supersededSchema.strict().parse(mine[0]?.payload);
    expect(superseded.message).toBe(
      `1.1.1 (workflow ${a.name}) is in flight for checkout in staging; 1.1.0 is older`,
    );
    expect(invocations.filter((i) => i.functionError !== undefined)).toEqual([]);
    const states = of(b.name, transitions);
    expect(states.filter((t) => t.phase === 'failed')).toEqual([]);
    expect(states.filter((t) => t.phase === 'entered').map((t) => t.state)).toEqual(
      expect.arrayContaining(['Lock', 'Rollback?', 'LockSuperseded', 'MarkSuperseded', 'Record']),
    );

    // The record as a caught Superseded left it: SKIPPED, the reason Lock gave, nothing deployed,
    // the queue left.
    const stale = await s.stores.workflows.get(b.name);
    expect(stale?.outcome).toBe('SKIPPED');
    expect(stale?.reasons).toEqual([{ code: 'SUPERSEDED', message: superseded.message }]);
    expect(deployments(s).map((d) => d.toVersion)).toEqual(['1.1.1']);
    expect(await s.stores.locks.waiting('checkout#staging', s.scheduler.now())).toEqual([]);
    expect(await s.stores.locks.get('checkout#staging')).toBeUndefined();
  });

  it('gives up after 60 lock attempts: EXPIRED (LOCK_TIMEOUT) as before, and not one function error', async () => {
    // Prepare: production asks for an approval nobody gives, so the first holds the lock for good.
    const { s, invocations, transitions } = await open();
    const first = s.startExecution(versionPublished({ version: '1.1.0', environment: 'production' }));
    const second = s.startExecution(
      versionPublished({ version: '1.2.0', environment: 'production', functionVersion: '8' }),
    );

    // Act
    const [a, b] = await Promise.all([first, second]);

    // Assess
    const waits = invocationsOf(b.name, invocations);
    expect(waits).toHaveLength(60);
    for (const held of waits) {
      expect(heldSchema.strict().parse(held.payload)).toMatchObject({ holder: a.name });
    }
    expect(invocations.filter((i) => i.functionError !== undefined)).toEqual([]);
    const entered = of(b.name, transitions)
      .filter((t) => t.phase === 'entered')
      .map((t) => t.state);
    expect(entered.filter((n) => n === 'CountLockAttempt')).toHaveLength(60);
    expect(entered.filter((n) => n === 'WaitForLock')).toHaveLength(59);
    expect(entered).toContain('MarkLockExpired');
    const record = await s.stores.workflows.get(b.name);
    expect(record?.outcome).toBe('EXPIRED');
    expect(record?.reasons[0]?.code).toBe('LOCK_TIMEOUT');
    expect(await s.stores.locks.get('checkout#production')).toBeUndefined();
  });

  it('a manual rollback waits for the lock without a place in the queue, then rolls back', async () => {
    // Prepare: 1.1.0 serves; another deployer holds the lock for 90 more seconds.
    const { s, invocations } = await open();
    await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    const key = 'checkout#staging';
    await s.stores.locks.acquire(key, 'wf-deployed-by-hand', s.scheduler.now(), 90);
    const queued: string[] = [];
    s.scheduler.at(s.scheduler.now().getTime() + 30_000, async () => {
      queued.push(...(await s.stores.locks.waiting(key, s.scheduler.now())).map((w) => w.owner));
    });

    // Act
    const { execution, record } = await s.run({
      version: '0',
      id: 'rb-lock-wait',
      'detail-type': 'Rollback Requested',
      source: 'ops.test',
      account: '123456789012',
      time: START.toISOString(),
      region: 'eu-west-1',
      resources: [],
      detail: {
        component: 'checkout',
        environment: 'staging',
        reason: 'revert the release',
        requestedBy: 'oncall@example.com',
      },
    });

    // Assess
    const mine = invocationsOf(execution.name, invocations);
    expect(mine.map((i) => i.functionError)).toEqual(mine.map(() => undefined));
    expect(mine.slice(0, -1).map((i) => heldSchema.strict().parse(i.payload).holder)).toEqual([
      'wf-deployed-by-hand',
      'wf-deployed-by-hand',
    ]);
    expect(leaseSchema.strict().parse(mine.at(-1)?.payload)).toMatchObject({ owner: execution.name });
    expect(queued).toEqual([]);
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons[0]?.message).toMatch(/rolled back from 1.1.0 to 1.0.0/);
    expect(await s.stores.locks.get(key)).toBeUndefined();
  });

  it('a caller that does not ask for results (a definition from before) still gets LockHeld and Superseded', async () => {
    // Prepare: the request of a real upgrade, and the lock held by a newer one.
    const { s, invocations, lockArn } = await open();
    const { execution } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    const asked = invocationsOf(execution.name, invocations)[0]?.input;
    expect(asked?.expectedAs).toBe('result');
    const { expectedAs: _, ...before } = asked as Record<string, unknown>;
    const key = 'checkout#staging';
    // As Step Functions invokes it: with the state machine's role.
    const stateMachine = { roleArn: s.model.stateMachine.roleArn, name: s.model.stateMachine.name };
    await s.stores.locks.acquire(key, 'wf-holder', s.scheduler.now(), 3600);
    const invoke = (payload: unknown) =>
      s.transport.call(stateMachine, 'lambda', 'Invoke', {
        FunctionName: lockArn,
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      });

    // Act
    const held = await invoke({ ...before, workflowId: 'wf-waiting' });
    await s.stores.locks.wait(
      key,
      {
        owner: 'wf-newer',
        version: '9.0.0',
        since: s.scheduler.now().toISOString(),
        expiresAt: '2099-01-01T00:00:00Z',
      },
      s.scheduler.now(),
    );
    const superseded = await invoke({ ...before, workflowId: 'wf-older' });

    // Assess: function errors named as the state machines before catch them.
    const errorOf = (out: Record<string, unknown>) => ({
      functionError: out.FunctionError,
      ...JSON.parse(new TextDecoder().decode(out.Payload as Uint8Array)),
    });
    expect(errorOf(held)).toMatchObject({ functionError: 'Unhandled', errorType: 'LockHeld' });
    expect(errorOf(superseded)).toMatchObject({
      functionError: 'Unhandled',
      errorType: 'Superseded',
      errorMessage: expect.stringContaining('9.0.0 (workflow wf-newer) is queued'),
    });
    // The superseded one left the queue, as before; the one that only waits keeps its place.
    const waiting = await s.stores.locks.waiting(key, s.scheduler.now());
    expect(waiting.map((w) => w.owner).sort()).toEqual(['wf-newer', 'wf-waiting']);
  });
});
