import { readFileSync } from 'node:fs';
import { CfnDynamicReference, CfnDynamicReferenceService, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** The Powertools packages the functions import; the bundle leaves them to the layer. */
export const POWERTOOLS_PACKAGES = [
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/metrics',
  '@aws-lambda-powertools/tracer',
] as const;

/**
 * The Powertools version the functions run with: the exact pin of package.json, the same for the
 * three packages (the tests run that version, and the layer must be that version). A range or two
 * different versions fail synth, since the layer could then differ from what was tested.
 */
export function powertoolsVersion(packageJson = readProjectPackageJson()): string {
  const deps = packageJson.dependencies ?? {};
  const versions = new Set(POWERTOOLS_PACKAGES.map((name) => deps[name]));
  const [version] = [...versions];
  if (versions.size !== 1 || !version || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(
      `package.json must pin ${POWERTOOLS_PACKAGES.join(', ')} to one exact version (found ${POWERTOOLS_PACKAGES.map((n) => `${n}@${deps[n] ?? 'missing'}`).join(', ')}): the functions run the Powertools layer of that version (docs/decisions/0024-tracer-from-the-powertools-layer.md).`,
    );
  }
  return version;
}

function readProjectPackageJson(): { dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
}

/**
 * The SSM public parameter AWS publishes with the ARN of the Powertools for AWS Lambda
 * (TypeScript) layer of one version, in each commercial region.
 */
export function powertoolsLayerParameter(version = powertoolsVersion()): string {
  return `/aws/service/powertools/typescript/generic/all/${version}`;
}

/**
 * The Powertools layer of the pinned version, one per stack. Its ARN is resolved by CloudFormation
 * at deploy time from the region's public SSM parameter (a dynamic reference, no parameter and no
 * lookup at synth), so the right account, region and partition come from AWS itself. Where that
 * parameter is not published (AWS GovCloud (US), China), give the layer version's ARN for the same
 * Powertools version in the context `upshift:powertoolsLayerArn`.
 */
export function powertoolsLayer(scope: Construct): lambda.ILayerVersion {
  const stack = Stack.of(scope);
  const id = 'PowertoolsLayer';
  const existing = stack.node.tryFindChild(id) as lambda.ILayerVersion | undefined;
  if (existing) return existing;
  const override = stack.node.tryGetContext('upshift:powertoolsLayerArn') as string | undefined;
  if (override !== undefined && !Token.isUnresolved(override) && !/^arn:aws[a-z-]*:lambda:/.test(override)) {
    throw new Error(
      `context upshift:powertoolsLayerArn must be a Lambda layer version ARN (arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>), got "${override}"`,
    );
  }
  const arn =
    override ??
    new CfnDynamicReference(CfnDynamicReferenceService.SSM, powertoolsLayerParameter()).toString();
  return lambda.LayerVersion.fromLayerVersionArn(stack, id, arn);
}
