import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { TransientDependencyError } from '../../shared/domain/errors';
import { versionPublished } from '../support/events';

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

/**
 * CreateDeployment succeeds, then the Deploy Lambda times out before it returns (`times` times).
 * With `find`, the deployer can find a deployment by workflow id, as CodeDeploy's description allows.
 */
function timeOutAfterCreate(s: LocalStack, options: { times: number; find: boolean }) {
  const create = s.codedeploy.createDeployment.bind(s.codedeploy);
  const byWorkflow = new Map<string, string>();
  let left = options.times;
  s.codedeploy.createDeployment = async (request) => {
    const created = await create(request);
    byWorkflow.set(request.workflowId, created.deploymentId);
    if (left-- > 0) throw named('Sandbox.Timedout', 'Task timed out after 30.00 seconds');
    return created;
  };
  if (options.find) {
    Object.assign(s.codedeploy, {
      findDeployment: async (input: { workflowId: string }) => {
        const deploymentId = byWorkflow.get(input.workflowId);
        return deploymentId ? { deploymentId } : undefined;
      },
    });
  }
}

describe('issue 9 finding 3: deploy is idempotent', () => {
  it('a Lambda timeout after CreateDeployment is retried and finds the deployment instead of creating a second', async () => {
    // Prepare
    const s = await open();
    timeOutAfterCreate(s, { times: 1, find: true });

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    expect(s.codedeploy.list().filter((d) => d.creator === 'user')).toHaveLength(1);
    expect(record?.history.filter((h) => h.stage === 'Deploy' && h.status === 'CREATED')).toHaveLength(1);
    expect((await s.stores.registry.get('checkout', 'staging'))?.current.version).toBe('1.1.0');
  });

  it('FAILED while a deployment it started may still run: the lock is kept, and the reasons say why', async () => {
    // Prepare: every attempt times out after CreateDeployment, and nothing can find the first one
    const s = await open();
    timeOutAfterCreate(s, { times: 10, find: false });

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));

    // Assess
    expect(record?.outcome).toBe('FAILED');
    expect(s.codedeploy.list().filter((d) => d.creator === 'user')).toHaveLength(1);
    expect(record?.reasons.map((r) => r.code)).toContain('LOCK_KEPT');
    expect((await s.stores.locks.get('checkout#staging'))?.owner).toBe(record?.workflowId);
  });
});

describe('issue 9 finding 15: when Record itself fails', () => {
  it('a retried Record writes the registry and the history once', async () => {
    // Prepare: the registry write lands, then its response is lost...
    const s = await open();
    const promote = s.stores.registry.promote.bind(s.stores.registry);
    let lost = false;
    s.stores.registry.promote = async (input) => {
      const entry = await promote(input);
      if (!lost) {
        lost = true;
        throw new TransientDependencyError('DynamoDB PutItem failed: socket hang up');
      }
      return entry;
    };

    // ...and so does the outcome event's, after the record was finished
    const publish = s.bus.publish.bind(s.bus);
    let dropped = false;
    s.bus.publish = async (events) => {
      if (!dropped && events.some((e) => e.detailType === 'Upgrade Completed')) {
        dropped = true;
        throw new TransientDependencyError('EventBridge PutEvents failed: socket hang up');
      }
      return publish(events);
    };

    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));

    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const registry = await s.stores.registry.get('checkout', 'development');
    expect(registry?.current.version).toBe('1.1.0');
    expect(registry?.previous?.version).toBe('1.0.0');
    expect(record?.history.filter((h) => h.stage === 'Record')).toHaveLength(1);
  });

  it('a Record that fails for good ends the record FAILED and releases the lock when nothing runs', async () => {
    // Prepare
    const s = await open();
    s.stores.registry.promote = async () => {
      throw named(
        'DependencyRejected',
        'DynamoDB PutItem: ValidationException: Item size has exceeded the maximum',
      );
    };

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
