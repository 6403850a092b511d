import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type Catalog, parseCatalog } from '../shared/domain/catalog';
import { InvalidDocument } from '../shared/domain/errors';
import { UpshiftStatefulStack } from './stateful-stack';
import { UpshiftStatelessStack } from './stateless-stack';
import { targetAccountStacks } from './target-account';

/**
 * Reads and validates the catalog. Every problem names its path in the file (an unknown key gets
 * a did-you-mean), so a typo such as `alrms` fails synth instead of deploying groups without alarms.
 */
function readCatalog(path: string): Catalog {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(resolve(path), 'utf8'));
  } catch (error) {
    const problem = error instanceof SyntaxError ? 'malformed JSON' : 'cannot read the file';
    throw new InvalidDocument(path, [`(root): ${problem}: ${(error as Error).message}`]);
  }
  return parseCatalog(document, path);
}

/** Builds the two stacks from a catalog file; cdk-nag's AwsSolutions checks run on synth. */
export function buildApp(app = new App()) {
  const catalogPath = String(app.node.tryGetContext('upshift:catalog') ?? 'catalog/demo.catalog.json');
  const catalog = readCatalog(catalogPath);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stateful = new UpshiftStatefulStack(app, 'UpshiftStateful', { env });
  const stateless = new UpshiftStatelessStack(app, 'UpshiftStateless', {
    env,
    table: stateful.table,
    bus: stateful.bus,
    catalog,
  });
  for (const [environment, policy] of Object.entries(catalog.policies)) {
    if (policy.trustedSources) continue;
    Annotations.of(stateless).addWarningV2(
      `upshift:untrusted-sources:${environment}`,
      `Policy "${environment}" names no trustedSources: any source on the bus may start upgrades and rollbacks there. Add "trustedSources": ["ci.github", ...] to the policy (docs/policies.md).`,
    );
  }
  // The roles, groups and alarms of environments in other accounts: one stack per account and
  // region, deployed there after the pipeline (infra/target-account.ts, decision 0028).
  const targets = targetAccountStacks(app, catalog, {
    account: stateless.account,
    region: stateless.region,
    stackName: stateless.stackName,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stateful, stateless, targets };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  try {
    buildApp().app.synth();
  } catch (error) {
    // A catalog mistake is the user's to fix: its problems, not a stack trace.
    if (!(error instanceof InvalidDocument)) throw error;
    process.stderr.write(`upshift: ${error.message}\n`);
    process.exitCode = 1;
  }
}
