import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseCatalog } from '../shared/domain/catalog';
import { UpshiftStatefulStack } from './stateful-stack';
import { UpshiftStatelessStack } from './stateless-stack';

/** Builds the two stacks from a catalog file; cdk-nag's AwsSolutions checks run on synth. */
export function buildApp(app = new App()) {
  const catalogPath = String(app.node.tryGetContext('upshift:catalog') ?? 'catalog/demo.catalog.json');
  const catalog = parseCatalog(JSON.parse(readFileSync(resolve(catalogPath), 'utf8')), catalogPath);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stateful = new UpshiftStatefulStack(app, 'UpshiftStateful', { env });
  const stateless = new UpshiftStatelessStack(app, 'UpshiftStateless', {
    env,
    table: stateful.table,
    bus: stateful.bus,
    catalog,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stateful, stateless };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  buildApp().app.synth();
}
