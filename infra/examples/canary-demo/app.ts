import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, CfnOutput, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseCatalog } from '../../../shared/domain/catalog';
import { UpshiftStatefulStack } from '../../stateful-stack';
import { UpshiftStatelessStack } from '../../stateless-stack';
import { SampleFunctionStack } from './sample-function';

/** The example's catalog: one component, `hello`, whose target is the sample function. */
export const catalogFile = fileURLToPath(new URL('./catalog.json', import.meta.url));

/**
 * Upshift with a sample target, to see a real canary in a new account (docs/deploy.md):
 *
 *   npx cdk deploy --all --app "npx tsx infra/examples/canary-demo/app.ts"
 *   npx upshift --stack UpshiftDemo publish --component hello --version 1.1.0 --function-version 2
 *
 * Three stacks: UpshiftDemoTarget (the function with versions 1 and 2 and the alias live on
 * version 1), UpshiftDemoStateful (table and bus `upshift-demo`, removed by `cdk destroy`) and
 * UpshiftDemo (the pipeline, the approvals and the outputs `--stack` reads).
 */
export function buildCanaryDemo(app = new App()) {
  const catalog = parseCatalog(JSON.parse(readFileSync(catalogFile, 'utf8')), catalogFile);
  const target = catalog.components.hello?.target;
  if (target?.type !== 'lambda') throw new Error(`${catalogFile}: components.hello must be a Lambda target`);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const sample = new SampleFunctionStack(app, 'UpshiftDemoTarget', {
    env,
    functionName: target.functionName,
    alias: target.alias,
    description: 'Upshift example: the sample function with two versions and an alias',
  });
  new CfnOutput(sample, 'Version2', {
    value: sample.version2,
    description: 'The version to publish: upshift --stack UpshiftDemo publish ... --function-version <this>',
  });
  const stateful = new UpshiftStatefulStack(app, 'UpshiftDemoStateful', {
    env,
    busName: 'upshift-demo',
    retainData: false,
    description: 'Upshift example: table and bus',
  });
  const stateless = new UpshiftStatelessStack(app, 'UpshiftDemo', {
    env,
    table: stateful.table,
    bus: stateful.bus,
    catalog,
    description: 'Upshift example: the upgrade pipeline',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, catalog, sample, stateful, stateless };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(fileURLToPath(import.meta.url))) {
  buildCanaryDemo().app.synth();
}
