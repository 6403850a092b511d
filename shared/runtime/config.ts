import { z } from 'zod';
import { ConfigError } from '../domain/errors';

/**
 * Parses configuration from the environment with zod. A missing or malformed variable fails at
 * once, naming the variable.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return result.data;
}

export const awsEnvSchema = z.object({
  UPSHIFT_TABLE_NAME: z.string({ error: 'expected the DynamoDB table name' }).min(1),
  UPSHIFT_EVENT_BUS_NAME: z.string({ error: 'expected the event bus name' }).min(1),
  UPSHIFT_POLL_SECONDS: z.coerce.number().int().min(5).max(3600).default(30),
  /** How often the reconciler polls one deployment whose completion event has not come. */
  UPSHIFT_RECONCILE_SECONDS: z.coerce.number().int().min(60).max(3600).default(300),
});
export type AwsEnv = z.infer<typeof awsEnvSchema>;
