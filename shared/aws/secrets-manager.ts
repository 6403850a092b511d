import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DependencyRejected, TransientDependencyError } from '../domain/errors';
import type { Clock } from '../ports';
import { type AwsBase, once } from './ports';

/** Reads one credential from Secrets Manager. */
export interface SecretReader {
  /** The secret's SecretString, or one key of it when it is a JSON object. */
  read(secretArn: string, jsonField?: string): Promise<string>;
}

/**
 * Errors of GetSecretValue that no retry can fix (Secrets Manager API Reference, GetSecretValue):
 * the secret does not exist or is scheduled for deletion, its KMS key cannot decrypt it, the
 * request is malformed, or the caller may not read it.
 */
const permanent = new Set([
  'ResourceNotFoundException',
  'InvalidRequestException',
  'InvalidParameterException',
  'DecryptionFailure',
  'AccessDeniedException',
]);

/** How long a value read is kept: rotation shows within this time, and calls stay few. */
export const SECRET_CACHE_MS = 5 * 60_000;

/**
 * GetSecretValue by ARN (`secretsmanager:GetSecretValue` on that ARN, plus `kms:Decrypt` when the
 * secret uses a customer managed key), cached per ARN for SECRET_CACHE_MS on the clock so a warm
 * function does not call Secrets Manager for each delivery. A value is never put in an error.
 *
 * @example
 * const secret = await secrets.read('arn:aws:secretsmanager:eu-west-1:111122223333:secret:ci/webhook-AbC123', 'key');
 */
export class SecretsManagerSecrets implements SecretReader {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    private readonly clock: Clock,
    private readonly cacheMs = SECRET_CACHE_MS,
  ) {}

  async read(secretArn: string, jsonField?: string): Promise<string> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(secretArn);
    const text = cached && cached.until > now ? cached.value : await this.fetch(secretArn, now);
    if (!jsonField) return text;
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new DependencyRejected(`secret ${secretArn} is not a JSON object, so it has no key ${jsonField}`);
    }
    const value =
      document && typeof document === 'object' ? (document as Record<string, unknown>)[jsonField] : undefined;
    if (typeof value !== 'string' || value === '') {
      throw new DependencyRejected(`secret ${secretArn} has no non-empty string under the key ${jsonField}`);
    }
    return value;
  }

  private async fetch(secretArn: string, now: number): Promise<string> {
    let out: GetSecretValueCommandOutput;
    try {
      out = await this.client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    } catch (error) {
      const name = (error as Error)?.name ?? 'Error';
      const message = `Secrets Manager GetSecretValue (${secretArn}) failed: ${name}: ${(error as Error)?.message ?? ''}`;
      throw permanent.has(name)
        ? new DependencyRejected(message, { cause: error })
        : new TransientDependencyError(message, { cause: error });
    }
    if (typeof out.SecretString !== 'string' || out.SecretString === '') {
      throw new DependencyRejected(`secret ${secretArn} holds no SecretString (a binary secret cannot sign)`);
    }
    this.cache.set(secretArn, { value: out.SecretString, until: now + this.cacheMs });
    return out.SecretString;
  }
}

/** The Secrets Manager port, made on first use (one client per execution environment). */
export function secretPorts(base: Pick<AwsBase, 'client' | 'clock'>) {
  return {
    secrets: once(
      (): SecretReader => new SecretsManagerSecrets(base.client(SecretsManagerClient), base.clock),
    ),
  };
}
