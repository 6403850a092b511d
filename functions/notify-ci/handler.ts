import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { DynamoFeedbackClaims } from '../../shared/aws/feedback-claims';
import { type AwsBase, awsBase, withClients } from '../../shared/aws/ports';
import { secretPorts } from '../../shared/aws/secrets-manager';
import { notifierConfigSchema, upshiftEventSchema } from '../../shared/domain/feedback';
import type { EventPublisher } from '../../shared/ports';
import { parseEnv } from '../../shared/runtime/config';
import { stepHandler } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';
import { fetchPost } from './http';
import { type NotifyCiPorts, notifyCi, type Post } from './notify-ci';

/** Where to deliver (UPSHIFT_CI_FEEDBACK); a missing or malformed value fails at once, naming it. */
export function notifierConfigFrom(env: NodeJS.ProcessEnv) {
  return parseEnv(
    z.object({
      UPSHIFT_CI_FEEDBACK: z
        .string({ error: 'expected the CI feedback configuration (JSON)' })
        .transform((text, ctx) => {
          try {
            return notifierConfigSchema.parse(JSON.parse(text));
          } catch (error) {
            ctx.addIssue({
              code: 'custom',
              message: `expected the notifier configuration: ${(error as Error).message}`,
            });
            return z.NEVER;
          }
        }),
    }),
    env,
  ).UPSHIFT_CI_FEEDBACK;
}

/** The rules on Upshift's outcome (and stage) events: tell CI, once per delivery (notifyCi). */
export function createHandler(ports: NotifyCiPorts) {
  return stepHandler('NotifyCi', upshiftEventSchema, (event) => notifyCi(event, ports, randomUUID()));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(
  aws: Pick<AwsBase, 'client' | 'clock' | 'config' | 'env'> & { events(): EventPublisher },
  post: Post = fetchPost,
) {
  return createHandler({
    config: notifierConfigFrom(aws.env),
    claims: new DynamoFeedbackClaims(aws.client(DynamoDBClient), aws.config.UPSHIFT_TABLE_NAME),
    secrets: secretPorts(aws).secrets(),
    events: aws.events(),
    post,
    clock: aws.clock,
    log: (message, fields) => logger.info(message, fields),
    warn: (message, fields) => logger.error(message, fields),
  });
}

export const handler = wire(withClients(awsBase(), eventPorts));
