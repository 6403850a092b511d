import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { versionPublished } from '../support/events';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('raw verification evidence goes to the stack bucket', () => {
  it('Verify writes its samples to S3 through the real adapter, and the record keeps the reference', async () => {
    // Prepare
    stack = await LocalStack.start({
      catalog: parseCatalog(demoCatalog),
      startAt: new Date('2026-12-02T10:00:00Z'),
    });
    stack.transport.record(true);
    // Act
    const { record } = await stack.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    // Assess
    const puts = stack.transport.calls.filter((c) => c.caller === 'Verify' && c.service === 's3');
    expect(puts).toEqual([{ caller: 'Verify', service: 's3', command: 'PutObject' }]);
    const verification = record?.evidence.verification as { evidence?: { ref?: string } } | undefined;
    expect(verification?.evidence?.ref).toMatch(
      /^s3:\/\/upshiftstateless-pipelineverificationevidence[0-9a-z]+\/verification\/checkout\/development\//,
    );
  });
});
