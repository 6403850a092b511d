import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { TaskTokenRegistry } from '../../local/emulators/stepfunctions';
import { LocalEngine } from '../../local/engine';
import { VirtualScheduler } from '../../local/scheduler';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('issue 9 finding 12: a hostile event ends its own execution only', () => {
  it('an event nested 3,000 levels deep is recorded INVALID; an upgrade beside it completes', async () => {
    // Prepare
    stack = await LocalStack.start({
      catalog: parseCatalog(demoCatalog),
      startAt: new Date('2026-12-02T10:00:00Z'),
    });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 3000; i++) deep = { nested: deep };
    const hostile = { ...versionPublished({ version: '1.1.0', environment: 'development' }), detail: deep };
    // Act
    const [bad, good] = await Promise.all([
      stack.startExecution(hostile),
      stack.startExecution(versionPublished({ version: '1.1.0', environment: 'development' })),
    ]);
    // Assess
    const badRecord = await stack.stores.workflows.get(bad.name);
    expect(badRecord?.outcome).toBe('INVALID');
    expect(badRecord?.reasons[0]?.message).toContain('nested more than 1000 levels');
    expect((await stack.stores.workflows.get(good.name))?.outcome).toBe('COMPLETED');
  });
});

describe('issue 9 finding 16: local timeouts follow the virtual clock', () => {
  it('a Task with TimeoutSeconds 1 whose handler takes 1.5 s of real time does not time out', async () => {
    // Prepare: the library's own timer would fire after 1 real second
    const scheduler = new VirtualScheduler(new Date('2026-12-02T10:00:00Z'));
    const definition = {
      StartAt: 'Slow',
      States: {
        Slow: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:000000000000:function:slow',
          TimeoutSeconds: 1,
          End: true,
        },
      },
    };
    const engine = new LocalEngine(
      definition,
      async () => {
        await new Promise((r) => setTimeout(r, 1500));
        return { done: true };
      },
      scheduler,
      new TaskTokenRegistry(),
    );
    // Act
    const result = await engine.execute(
      {},
      'slow',
      'arn:aws:states:us-east-1:000000000000:execution:sm:slow',
    );
    // Assess: no virtual time passed, so no timeout
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { done: true } });
  });

  it('a callback Task times out after its TimeoutSeconds of virtual time, as States.Timeout', async () => {
    // Prepare
    const scheduler = new VirtualScheduler(new Date('2026-12-02T10:00:00Z'));
    const definition = {
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:f',
            Payload: { 'token.$': '$$.Task.Token' },
          },
          TimeoutSeconds: 3600,
          End: true,
        },
      },
    };
    const engine = new LocalEngine(definition, async () => ({}), scheduler, new TaskTokenRegistry());
    // Act
    const result = await engine.execute(
      {},
      'waits',
      'arn:aws:states:us-east-1:000000000000:execution:sm:waits',
    );
    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.Timeout');
    expect(scheduler.now().toISOString()).toBe('2026-12-02T11:00:00.000Z');
  });
});
