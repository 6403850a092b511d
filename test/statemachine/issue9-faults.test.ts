import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';
import { busEvents, deployments } from '../support/twin';

const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

async function open(): Promise<LocalStack> {
  stack = await LocalStack.start({ catalog: parseCatalog(demoCatalog), startAt: START });
  return stack;
}

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The Deploy function's ARN, as the state machine invokes it. */
function deployFunctionArn(s: LocalStack): string {
  const fn = [...s.functions.values()].find((f) => f.name === 'Deploy');
  if (!fn) throw new Error('no Deploy function in the synthesized app');
  return fn.arn;
}

/**
 * CodeDeploy takes the deployment, then the Deploy function runs out of time before it records the
 * id: its CreateDeployment call never returns, and Lambda reports Sandbox.Timedout to the state
 * machine.
 */
function timeOutAfterCreate(s: LocalStack) {
  s.transport.injectFault({
    service: 'codedeploy',
    command: 'CreateDeployment',
    caller: 'Deploy',
    when: 'after',
    times: 1,
    error: () => named('TimeoutError', 'the function was stopped while CreateDeployment was answering'),
  });
  const deploy = deployFunctionArn(s);
  s.transport.injectFault({
    service: 'lambda',
    command: 'Invoke',
    when: 'after',
    times: 1,
    match: (input) => input.FunctionName === deploy,
    error: () => named('Sandbox.Timedout', 'Task timed out after 30.00 seconds'),
  });
}

/** DynamoDB writes of a registry entry (their item key starts TARGET#). */
/** A write of the registry entry: promote is one UpdateItem (decision 0018), a seed a PutItem. */
const registryWrite = (input: Record<string, unknown>) =>
  JSON.stringify(input.Item ?? input.Key ?? {}).includes('TARGET#');

/** A PutEvents call carrying the given detail-type. */
const putsDetailType = (detailType: string) => (input: Record<string, unknown>) =>
  ((input.Entries ?? []) as { DetailType?: string }[]).some((e) => e.DetailType === detailType);

describe('issue 9 finding 3: deploy is idempotent', () => {
  it('a Lambda timeout after CreateDeployment is retried and finds the deployment instead of creating a second', async () => {
    // Prepare
    const s = await open();
    timeOutAfterCreate(s);

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    expect(deployments(s).filter((d) => d.creator === 'user')).toHaveLength(1);
    expect(record?.history.filter((h) => h.stage === 'Deploy' && h.status === 'CREATED')).toHaveLength(1);
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.0');
  });

  it('FAILED while a deployment it started may still run: the lock is kept, and the reasons say why', async () => {
    // Prepare: the first attempt times out after CreateDeployment, and no retry can list the
    // group's deployments to find it
    const s = await open();
    timeOutAfterCreate(s);
    s.transport.injectFault({
      service: 'codedeploy',
      command: 'ListDeployments',
      caller: 'Deploy',
      when: 'before',
      times: 100,
      error: () => named('ThrottlingException', 'Rate exceeded'),
    });

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(record?.outcome).toBe('FAILED');
    expect(deployments(s).filter((d) => d.creator === 'user')).toHaveLength(1);
    expect(record?.reasons.map((r) => r.code)).toContain('LOCK_KEPT');
    expect((await s.stores.locks.get('checkout#staging'))?.owner).toBe(record?.workflowId);
  });
});

describe('issue 9 finding 15: when Record itself fails', () => {
  it('a retried Record writes the registry and the history once', async () => {
    // Prepare: the registry write lands, then its response is lost...
    const s = await open();
    s.transport.injectFault({
      service: 'dynamodb',
      command: 'UpdateItem',
      caller: 'Record',
      when: 'after',
      times: 1,
      match: registryWrite,
      error: () => named('TimeoutError', 'socket hang up'),
    });
    // ...and the outcome event is not put, after the record was finished
    s.transport.injectFault({
      service: 'events',
      command: 'PutEvents',
      caller: 'Record',
      when: 'before',
      times: 1,
      match: putsDetailType('Upgrade Completed'),
      error: () => named('TimeoutError', 'socket hang up'),
    });

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const registry = await s.stores.registry.get('checkout', 'development');
    expect(registry?.current.version).toBe('1.1.0');
    expect(registry?.previous?.version).toBe('1.0.0');
    expect(record?.history.filter((h) => h.stage === 'Record')).toHaveLength(1);
    expect(busEvents(s).filter((e) => e['detail-type'] === 'Upgrade Completed')).toHaveLength(1);
  });

  it('a Record that fails for good ends the record FAILED and releases the lock when nothing runs', async () => {
    // Prepare: DynamoDB refuses every registry write as invalid
    const s = await open();
    s.transport.injectFault({
      service: 'dynamodb',
      command: 'UpdateItem',
      caller: 'Record',
      when: 'before',
      times: 100,
      match: registryWrite,
      error: () => named('ValidationException', 'Item size has exceeded the maximum allowed size'),
    });

    // Act
    const { record, execution } = await s.run(
      versionPublished({ version: '1.1.0', environment: 'development' }),
    );

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(record?.status).toBe('ENDED');
    expect(record?.outcome).toBe('FAILED');
    expect(record?.reasons[0]?.code).toBe('RECORD_FAILED');
    expect(record?.reasons[0]?.message).toContain('COMPLETED');
    expect(await s.stores.locks.get('checkout#development')).toBeUndefined();
  });
});
