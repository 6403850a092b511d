import { z } from 'zod';
import { strictObject } from '../strict-object';

/** What CodeDeploy deploys: a Lambda version, an ECS task definition, an EC2 revision, or an image. */
export const lambdaArtifact = strictObject({
  type: z.literal('lambda'),
  functionName: z
    .string()
    .min(1, 'expected the Lambda function name')
    .max(140, 'expected a function name or ARN of at most 140 characters'),
  functionVersion: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'expected a published Lambda version number (a positive integer, not $LATEST)'),
});

export const ecsArtifact = strictObject({
  type: z.literal('ecs'),
  taskDefinitionArn: z
    .string()
    .max(2048, 'expected a task definition ARN')
    .regex(
      /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[\w-]+:\d+$/,
      'expected a task definition ARN',
    ),
});

export const ec2Artifact = strictObject({
  type: z.literal('ec2'),
  revision: strictObject({
    bucket: z.string().min(3, 'expected an S3 bucket name').max(63, 'expected an S3 bucket name'),
    key: z.string().min(1, 'expected an S3 key').max(1024, 'expected an S3 key of at most 1024 characters'),
    bundleType: z.enum(['zip', 'tar', 'tgz']).default('zip'),
    version: z.string().max(1024).optional(),
    eTag: z.string().max(1024).optional(),
  }),
});

/** An image pushed to ECR; deploying it needs a task definition registered from it. */
export const imageArtifact = strictObject({
  type: z.literal('image'),
  repository: z.string().min(1).max(256),
  tag: z.string().min(1).max(128),
  digest: z.string().min(1).max(256),
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@<digest>`, pinned by digest. */
  imageUri: z.string().min(1).max(1024).optional(),
});

export const artifactSchema = z.discriminatedUnion(
  'type',
  [lambdaArtifact, ecsArtifact, ec2Artifact, imageArtifact],
  {
    error: 'expected an artifact with type "lambda", "ecs" or "ec2"',
  },
);

export type Artifact = z.infer<typeof artifactSchema>;
