import {
  DecryptionFailure,
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { DynamoFeedbackClaims, feedbackKey } from '../../shared/aws/feedback-claims';
import { SECRET_CACHE_MS, SecretsManagerSecrets } from '../../shared/aws/secrets-manager';
import { DependencyRejected, TransientDependencyError } from '../../shared/domain/errors';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:upshift/webhook-AbC123';
const sm = mockClient(SecretsManagerClient);

class Clock {
  constructor(public ms: number) {}
  now() {
    return new Date(this.ms);
  }
}

beforeEach(() => sm.reset());

describe('Secrets Manager adapter (GetSecretValue)', () => {
  it('asks for the secret by its ARN, as the API takes it, and returns the SecretString', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ ARN, Name: 'upshift/webhook', SecretString: 'k3y' });
    const secrets = new SecretsManagerSecrets(
      new SecretsManagerClient({ region: 'eu-west-1' }),
      new Clock(0),
    );
    // Act
    const value = await secrets.read(ARN);
    // Assess
    expect(value).toBe('k3y');
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: ARN });
  });

  it('reads one key of a JSON secret and names the key when it is missing, never the value', async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretString: '{"token":"ghp_x","other":1}' });
    const secrets = new SecretsManagerSecrets(
      new SecretsManagerClient({ region: 'eu-west-1' }),
      new Clock(0),
    );
    expect(await secrets.read(ARN, 'token')).toBe('ghp_x');
    const missing = secrets.read(ARN, 'hmac');
    await expect(missing).rejects.toThrow(DependencyRejected);
    await expect(missing).rejects.toThrow(/no non-empty string under the key hmac/);
    await expect(secrets.read(ARN, 'other')).rejects.not.toThrow(/ghp_x/);
  });

  it('caches a value for five minutes on the clock, then reads it again (rotation shows)', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).resolvesOnce({ SecretString: 'v2' });
    const clock = new Clock(1_000);
    const secrets = new SecretsManagerSecrets(new SecretsManagerClient({ region: 'eu-west-1' }), clock);
    expect(await secrets.read(ARN)).toBe('v1');
    clock.ms += SECRET_CACHE_MS - 1;
    expect(await secrets.read(ARN)).toBe('v1');
    clock.ms += 1;
    expect(await secrets.read(ARN)).toBe('v2');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('classifies errors: missing or undecryptable is permanent, a service fault may pass', async () => {
    const secrets = new SecretsManagerSecrets(
      new SecretsManagerClient({ region: 'eu-west-1' }),
      new Clock(0),
    );
    sm.on(GetSecretValueCommand)
      .rejectsOnce(
        new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: {},
        }),
      )
      .rejectsOnce(new DecryptionFailure({ message: 'kms', $metadata: {} }))
      .rejectsOnce(new InternalServiceError({ message: 'oops', $metadata: {} }))
      .resolvesOnce({ SecretBinary: new Uint8Array([1]) });
    await expect(secrets.read(ARN)).rejects.toThrow(DependencyRejected);
    await expect(secrets.read(ARN)).rejects.toThrow(/DecryptionFailure/);
    await expect(secrets.read(ARN)).rejects.toThrow(TransientDependencyError);
    await expect(secrets.read(ARN)).rejects.toThrow(/holds no SecretString/);
  });
});

describe('delivery claims (against dynalite)', () => {
  let dynamo: LocalDynamo;
  let claims: DynamoFeedbackClaims;
  beforeAll(async () => {
    dynamo = await startDynalite();
    claims = new DynamoFeedbackClaims(dynamo.document, dynamo.tableName);
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('one caller holds a delivery; a duplicate meanwhile is told it is in flight; sent stays sent', async () => {
    const t = Date.parse('2026-12-02T10:00:00Z');
    expect(await claims.claim('wf-1#COMPLETED', 'webhook', 'a', t, 90)).toEqual({
      state: 'claimed',
      attempts: 1,
    });
    expect(await claims.claim('wf-1#COMPLETED', 'webhook', 'b', t + 1000, 90)).toEqual({ state: 'busy' });
    // Another channel of the same outcome is its own delivery.
    expect((await claims.claim('wf-1#COMPLETED', 'github', 'b', t, 90)).state).toBe('claimed');
    await claims.finish('wf-1#COMPLETED', 'webhook', 'SENT', t + 2000, 'HTTP 200');
    expect(await claims.claim('wf-1#COMPLETED', 'webhook', 'c', t + 500_000, 90)).toEqual({ state: 'sent' });
  });

  it('a released claim, or one whose lease lapsed, is taken by the retry; a stale holder cannot release it', async () => {
    const t = Date.parse('2026-12-02T11:00:00Z');
    await claims.claim('wf-2#FAILED', 'webhook', 'a', t, 90);
    await claims.release('wf-2#FAILED', 'webhook', 'a');
    expect(await claims.claim('wf-2#FAILED', 'webhook', 'b', t + 1000, 90)).toEqual({
      state: 'claimed',
      attempts: 2,
    });
    // b dies; after its lease, c takes over; b's late release changes nothing.
    expect(await claims.claim('wf-2#FAILED', 'webhook', 'c', t + 92_000, 90)).toEqual({
      state: 'claimed',
      attempts: 3,
    });
    await claims.release('wf-2#FAILED', 'webhook', 'b');
    expect(await claims.claim('wf-2#FAILED', 'webhook', 'd', t + 93_000, 90)).toEqual({ state: 'busy' });
  });

  it('a refused delivery is remembered with its reason and kept 30 days', async () => {
    const t = Date.parse('2026-12-02T12:00:00Z');
    await claims.claim('wf-3#REJECTED', 'webhook', 'a', t, 90);
    await claims.finish('wf-3#REJECTED', 'webhook', 'REJECTED', t, 'HTTP 422: bad');
    expect(await claims.claim('wf-3#REJECTED', 'webhook', 'b', t + 1, 90)).toEqual({
      state: 'rejected',
      detail: 'HTTP 422: bad',
    });
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const item = (
      await dynamo.document.send(
        new GetCommand({ TableName: dynamo.tableName, Key: feedbackKey('wf-3#REJECTED', 'webhook') }),
      )
    ).Item;
    expect(item?.expiresAt).toBe(Math.floor(t / 1000) + 30 * 86_400);
  });
});
