import { type VerificationSubject, verifyCandidate } from '../../functions/verify/verify';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import { proberPorts } from '../../shared/aws/probe-clients';
import { defaultEnvironment, environmentOf, targetFor } from '../../shared/domain/catalog';
import type { Artifact } from '../../shared/domain/events/artifact';
import { UsageError } from '../commands/shared';
import type { AwsDeps } from './cli-api';
import { type AwsTarget, openAwsSession, outputOf, resolveCredentials, stackOutputNames } from './stack';

/** The HTTP prober's transport over an injected fetch (tests). */
function httpVia(send: NonNullable<AwsDeps['fetch']>): typeof fetch {
  return (input, init) => send(input instanceof Request ? input.url : String(input), init ?? {});
}

export interface VerifyOnAwsInput {
  component: string;
  /** The environment; the component's first when absent. */
  environment?: string;
  candidate: string;
  baseline?: string;
  /** The candidate's published Lambda version number (`--function-version`). */
  functionVersion?: string;
}

/**
 * Verification alone against a deployed stack, as the caller: the catalog, policy and registry
 * from the stack's table (output `TableName`), Lambda versions invoked by qualifier with the
 * caller's credentials, HTTP probes to the catalog's URLs; then the Verify step's own
 * `verifyCandidate`. Nothing is written: no workflow, no record, no raw samples.
 */
export async function verifyOnAws(target: AwsTarget, input: VerifyOnAwsInput, deps: AwsDeps = {}) {
  const session = await openAwsSession(target, deps.cloudFormation);
  const table = outputOf(session, stackOutputNames.tableName);
  await resolveCredentials(session);
  const aws = withClients(
    awsBase(
      {
        UPSHIFT_TABLE_NAME: table,
        // Verify publishes nothing; the configuration still names a bus.
        UPSHIFT_EVENT_BUS_NAME: session.outputs[stackOutputNames.eventBusName] ?? 'upshift',
      },
      { clientConfig: session.clientConfig, ...(deps.fetch ? { http: { fetch: httpVia(deps.fetch) } } : {}) },
    ),
    dynamoPorts,
    proberPorts,
  );
  const stores = aws.stores();
  const component = await stores.catalog.getComponent(input.component);
  if (!component) {
    throw new UsageError(`verify: no component "${input.component}" in the catalog of stack ${target.stack}`);
  }
  const environment = input.environment ?? defaultEnvironment(component);
  const envConfig = environmentOf(component, environment);
  if (!envConfig) {
    throw new UsageError(
      `verify: ${input.component} has no environment "${environment}" (it has ${Object.keys(component.environments).join(', ')})`,
    );
  }
  const registry = await stores.registry.get(input.component, environment);
  const serving = registry?.current ?? envConfig.baseline;
  let baseline: { version: string; artifact: Artifact } = serving;
  if (input.baseline && input.baseline !== serving.version) {
    const known = [registry?.previous, registry?.lastKnownGood, envConfig.baseline].find(
      (v) => v?.version === input.baseline,
    );
    if (!known) {
      throw new UsageError(
        `verify: --baseline ${input.baseline}: the stack knows no artifact of that version in ${environment} (serving ${serving.version}); leave --baseline out to verify against it`,
      );
    }
    baseline = known;
  }
  const where = targetFor(component, environment);
  let artifact: Artifact;
  if (where.type === 'lambda') {
    if (!input.functionVersion) {
      throw new UsageError(
        `verify --stack: --function-version N is required: which published version of ${where.functionName} is ${input.candidate}`,
      );
    }
    artifact = { type: 'lambda', functionName: where.functionName, functionVersion: input.functionVersion };
  } else if (where.type === 'ec2' && baseline.artifact.type === 'ec2') {
    // EC2 is probed at the catalog's URLs (probes.http); the artifact only labels the candidate.
    artifact = baseline.artifact;
  } else {
    throw new UsageError(
      `verify --stack: ${input.component} is an ${where.type.toUpperCase()} target; the CLI does not stage candidates behind its test listener yet (docs/verification.md)`,
    );
  }
  const subject: VerificationSubject = {
    workflowId: `verify-${aws.clock.now().toISOString().replace(/[:.]/g, '-')}`,
    component: input.component,
    environment,
    version: input.candidate,
    artifact,
    currentVersion: baseline.version,
    currentArtifact: baseline.artifact,
  };
  const result = await verifyCandidate(subject, {
    catalog: stores.catalog,
    policies: stores.policies,
    prober: aws.prober(),
    httpProber: aws.httpProber(),
    clock: aws.clock,
  });
  return { subject, result };
}
