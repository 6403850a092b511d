import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

/** The handler of a release: a greeting that says which version answered. */
export function handlerSource(release: number): string {
  return `exports.handler = async (event) => ({
  status: 'ok',
  version: ${release},
  greeting: 'Hello, ' + String((event && event.name) || 'world') + ', from version ${release}',
});
`;
}

export interface SampleFunctionStackProps extends StackProps {
  /** The function's name and alias: the catalog's target, so both say the same. */
  functionName: string;
  alias: string;
}

/**
 * The example's target: a tiny Lambda function with two published versions and an alias.
 *
 * CloudFormation publishes a version of the function as it is (version 1, which the alias
 * serves), and Lambda publishes a new version only when the code changed; so the second version
 * comes from one UpdateFunctionCode call with `Publish: true` (a custom resource, after version
 * 1), with version 2's code from an asset. After the deploy the alias still serves version 1 and
 * version 2 waits for Upshift; later deploys leave both alone.
 */
export class SampleFunctionStack extends Stack {
  readonly function: lambda.Function;
  readonly version1: lambda.Version;
  readonly alias: lambda.Alias;
  /** Version 2's number, as Lambda returned it ("2" in a new function). */
  readonly version2: string;

  constructor(scope: Construct, id: string, props: SampleFunctionStackProps) {
    super(scope, id, props);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role, allowed to write its own logs only (no AWSLambdaBasicExecutionRole).
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: 'Upshift example: the sample target of a canary',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 128,
      timeout: Duration.seconds(5),
      handler: 'index.handler',
      code: lambda.Code.fromInline(handlerSource(1)),
      role,
      logGroup,
    });
    this.version1 = new lambda.Version(this, 'Version1', {
      lambda: this.function,
      description: 'release 1',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.alias = new lambda.Alias(this, 'Alias', { aliasName: props.alias, version: this.version1 });

    // Version 2's code as an asset, written by local "bundling" straight into the asset's folder
    // and hashed as written (no container is ever pulled: the local step always succeeds).
    const code = new Asset(this, 'Version2Code', {
      path: fileURLToPath(new URL('.', import.meta.url)),
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
        local: {
          tryBundle: (outputDir) => {
            writeFileSync(join(outputDir, 'index.js'), handlerSource(2));
            return true;
          },
        },
      },
    });
    // The provider's own role and log group, so it needs no AWSLambdaBasicExecutionRole.
    const publisherLogs = new logs.LogGroup(this, 'PublishVersion2Logs', {
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const publisherRole = new iam.Role(this, 'PublishVersion2Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    publisherRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [publisherLogs.logGroupArn],
      }),
    );
    // The same call on Create and on Update: version 2's code changed means a new asset key, so
    // CloudFormation updates this resource, and the call publishes a new version. Its number is the
    // physical id, so a new number is a replacement, and the Version output follows it (the old
    // version stays, as published versions do; Delete calls nothing).
    const publishVersion2: cr.AwsSdkCall = {
      service: 'Lambda',
      action: 'UpdateFunctionCode',
      parameters: {
        FunctionName: this.function.functionName,
        S3Bucket: code.s3BucketName,
        S3Key: code.s3ObjectKey,
        Publish: true,
      },
      physicalResourceId: cr.PhysicalResourceId.fromResponse('Version'),
      outputPaths: ['Version'],
    };
    const publish = new cr.AwsCustomResource(this, 'PublishVersion2', {
      onCreate: publishVersion2,
      onUpdate: publishVersion2,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['lambda:UpdateFunctionCode'],
          resources: [this.function.functionArn],
        }),
        // Lambda reads the code with the caller's rights.
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [`${code.bucket.bucketArn}/${code.s3ObjectKey}`],
        }),
      ]),
      role: publisherRole,
      logGroup: publisherLogs,
      installLatestAwsSdk: false,
    });
    // After version 1, so that version 1 is release 1.
    publish.node.addDependency(this.version1);
    this.version2 = publish.getResponseField('Version');
  }
}
