import { z } from 'zod';

/** What CodeDeploy deploys: a Lambda version, an ECS task definition, an EC2 revision, or an image. */
export const lambdaArtifact = z.object({
  type: z.literal('lambda'),
  functionName: z.string().min(1, 'expected the Lambda function name'),
  functionVersion: z
    .string()
    .regex(/^[1-9]\d*$/, 'expected a published Lambda version number (a positive integer, not $LATEST)'),
});

export const ecsArtifact = z.object({
  type: z.literal('ecs'),
  taskDefinitionArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[\w-]+:\d+$/,
      'expected a task definition ARN',
    ),
});

export const ec2Artifact = z.object({
  type: z.literal('ec2'),
  revision: z.object({
    bucket: z.string().min(3, 'expected an S3 bucket name'),
    key: z.string().min(1, 'expected an S3 key'),
    bundleType: z.enum(['zip', 'tar', 'tgz']).default('zip'),
    version: z.string().optional(),
    eTag: z.string().optional(),
  }),
});

/** An image pushed to ECR; deploying it needs a task definition registered from it. */
export const imageArtifact = z.object({
  type: z.literal('image'),
  repository: z.string().min(1),
  tag: z.string().min(1),
  digest: z.string().min(1),
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@<digest>`, pinned by digest. */
  imageUri: z.string().min(1).optional(),
});

export const artifactSchema = z.discriminatedUnion(
  'type',
  [lambdaArtifact, ecsArtifact, ec2Artifact, imageArtifact],
  {
    error: 'expected an artifact with type "lambda", "ecs" or "ec2"',
  },
);

export type Artifact = z.infer<typeof artifactSchema>;
