import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, lambdaBundle } from '../../infra/lambda-bundle';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { versionPublished } from '../support/events';

let dynamo: LocalDynamo;
const outdir = resolve('.upshift/bundle-test');

beforeAll(async () => {
  dynamo = await startDynalite({ tableName: 'bundle-test' });
});
afterAll(async () => {
  await dynamo.close();
});

describe('the Lambda bundle', () => {
  it('bundles the Intake handler as CDK does, and the bundle handles an event against DynamoDB', async () => {
    // Prepare: bundle with the stack's options (the target is lowered to the Node running the test).
    mkdirSync(outdir, { recursive: true });
    const outfile = join(outdir, 'intake.mjs');
    await bundleFunction('functions/intake/handler.ts', outfile, {
      target: `node${process.versions.node.split('.')[0]}`,
    });
    const env = {
      UPSHIFT_TABLE_NAME: 'bundle-test',
      UPSHIFT_EVENT_BUS_NAME: 'upshift',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      // Act: import the bundle (env is parsed at import) and invoke it as Step Functions would.
      const mod = (await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`)) as {
        handler: (
          event: unknown,
          context: unknown,
        ) => Promise<{ outcome: string; reasons: { code: string }[] }>;
      };
      const result = await mod.handler(
        { event: versionPublished({ component: 'ledger', version: '1.0.0' }), workflowId: 'wf-bundle' },
        { functionName: 'intake', awsRequestId: 'r1', getRemainingTimeInMillis: () => 30_000 },
      );
      // Assess: the bundled code ran the use case and wrote through the real SDK.
      expect(result.outcome).toBe('IGNORED');
      expect(result.reasons[0]?.code).toBe('UNKNOWN_COMPONENT');
      const bad = mod.handler(
        { workflowId: '' },
        { functionName: 'intake', awsRequestId: 'r2', getRemainingTimeInMillis: () => 1 },
      );
      await expect(bad).rejects.toMatchObject({ name: 'InvalidStepInput' });
    } finally {
      process.env = saved;
    }
  });

  it('is minified, ships no source map, and holds only the SDK clients and zod kinds the handler uses', async () => {
    // Prepare
    mkdirSync(outdir, { recursive: true });
    // Act
    const lock = await bundleFunction('functions/lock/handler.ts', join(outdir, 'lock.mjs'));
    // Assess: the stack's options, and what the bundle is made of.
    expect(lambdaBundle).toMatchObject({
      minify: true,
      sourcemap: false,
      external: ['@aws-sdk/*', '@aws-lambda-powertools/*'],
    });
    const inputs = Object.keys(Object.values(lock.metafile.outputs)[0]?.inputs ?? {});
    expect(inputs.some((i) => i.includes('zod/v4/locales/de.js'))).toBe(false);
    expect(inputs.some((i) => i.includes('shared/aws/codedeploy-clients'))).toBe(false);
    expect(inputs.some((i) => i.includes('shared/aws/dynamodb-clients'))).toBe(true);
    expect(Object.keys(lock.metafile.outputs).some((o) => o.endsWith('.map'))).toBe(false);
    expect(lock.bytes).toBeLessThanOrEqual(300 * 1024);
    const code = readFileSync(lock.outfile, 'utf8');
    expect(code).not.toContain('sourceMappingURL');
    expect(code).toMatch(/from\s*"@aws-sdk\/client-dynamodb"/);
    expect(code).not.toMatch(/@aws-sdk\/client-(codedeploy|lambda|s3|ecs|sfn|cloudwatch|eventbridge)/);
    // Powertools comes from its layer (decision 0024); the X-Ray SDK is never bundled, and the
    // tracer is imported only when tracing is on (inside Lambda).
    expect(code).toMatch(/from\s*"@aws-lambda-powertools\/logger"/);
    expect(code).toMatch(/import\("@aws-lambda-powertools\/tracer"\)/);
    expect(inputs.some((i) => /aws-xray-sdk|@aws-lambda-powertools/.test(i))).toBe(false);
  });
});
