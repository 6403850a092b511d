import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * Raw verification samples (docs/verification.md): the workflow record keeps a compact table and
 * the object's reference. SSE-KMS under the account's aws/s3 key, kept 90 days, retained when the
 * stack is deleted. Only Verify writes, under verification/. Resources go into `scope` (the
 * pipeline), as in PipelineFunctions.
 */
export function evidenceBucket(scope: Construct, verify: lambda.Function): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'VerificationEvidence', {
    encryption: s3.BucketEncryption.KMS_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    lifecycleRules: [{ prefix: 'verification/', expiration: Duration.days(90) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  verify.addEnvironment('UPSHIFT_EVIDENCE_BUCKET', bucket.bucketName);
  verify.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('verification/*')],
    }),
  );
  return bucket;
}
