import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogFile } from '../../infra/examples/canary-demo/app';
import { LocalStack } from '../../local/stack';
import { parseCatalog } from '../../shared/domain/catalog';
import { aliasRouting, deployments } from '../support/twin';

let stack: LocalStack;

beforeAll(async () => {
  stack = await LocalStack.start({
    startAt: new Date('2026-12-02T10:00:00Z'),
    catalog: parseCatalog(JSON.parse(readFileSync(catalogFile, 'utf8')), catalogFile),
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe("the canary demo's catalog on the twin", () => {
  it('ships version 2 as 1.1.0 with a 10% canary for five minutes and a five-minute bake, without a human', async () => {
    // Act: what `upshift --stack UpshiftDemo publish --component hello --version 1.1.0 --function-version 2` puts on the bus
    const { record } = await stack.run({
      version: '0',
      id: 'canary-demo-1',
      'detail-type': 'Version Published',
      source: 'upshift.cli',
      account: '123456789012',
      time: '2026-12-02T10:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        component: 'hello',
        version: '1.1.0',
        artifact: { type: 'lambda', functionName: 'upshift-demo-hello', functionVersion: '2' },
        labels: [],
        publishedBy: 'arn:aws:iam::123456789012:user/demo',
      },
    });
    // Assert
    expect(record?.outcome).toBe('COMPLETED');
    expect(record?.environment).toBe('demo');
    expect(record?.history.find((h) => h.stage === 'Decide')?.detail).toContain('AUTO_APPROVED');
    expect(deployments(stack).map((d) => [d.group, d.config, d.status])).toEqual([
      ['hello-demo', 'CodeDeployDefault.LambdaCanary10Percent5Minutes', 'Succeeded'],
    ]);
    expect(aliasRouting(stack, 'upshift-demo-hello', 'live')).toEqual([
      { '1.0.0': 100 },
      { '1.0.0': 90, '1.1.0': 10 },
      { '1.1.0': 100 },
    ]);
    // The shift (5 minutes) and the bake (5 minutes) on the virtual clock.
    expect(Date.parse(record?.endedAt ?? '') - Date.parse('2026-12-02T10:00:00Z')).toBe(10 * 60_000);
  });
});
