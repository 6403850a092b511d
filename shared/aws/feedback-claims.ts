import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { awsDependencyError } from './errors';

/** Where one delivery stands. */
export type ClaimState =
  /** This call holds the delivery until `leaseUntil`: send it. */
  | { state: 'claimed'; attempts: number }
  /** Another call holds it now (a duplicate event): it sends, or releases it for its own retry. */
  | { state: 'busy' }
  | { state: 'sent' }
  /** The receiver refused it for good (a 4xx): never sent again. */
  | { state: 'rejected'; detail: string };

export interface FeedbackClaims {
  claim(
    key: string,
    channel: string,
    owner: string,
    nowMs: number,
    leaseSeconds: number,
  ): Promise<ClaimState>;
  finish(
    key: string,
    channel: string,
    outcome: 'SENT' | 'REJECTED',
    nowMs: number,
    detail: string,
  ): Promise<void>;
  release(key: string, channel: string, owner: string): Promise<void>;
}

/** Kept 30 days (the table's TTL), longer than any EventBridge or Lambda retry. */
const KEEP_SECONDS = 30 * 86_400;

export const feedbackKey = (key: string, channel: string) => ({ pk: `CIFEEDBACK#${key}`, sk: channel });

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

/**
 * One item per delivery (outcome and channel) in the Upshift table, so a duplicate event, a
 * retried Record or a retried invocation sends nothing twice. A claim is a lease: the call that
 * holds it sends; one that fails in a way worth retrying releases it for the retry; one that dies
 * leaves it to lapse (docs/ci-feedback.md, decision 0034). Single-item conditional writes only.
 */
export class DynamoFeedbackClaims implements FeedbackClaims {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient | DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.db =
      client instanceof DynamoDBDocumentClient
        ? client
        : DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async claim(
    key: string,
    channel: string,
    owner: string,
    nowMs: number,
    leaseSeconds: number,
  ): Promise<ClaimState> {
    const now = Math.floor(nowMs / 1000);
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: feedbackKey(key, channel),
          UpdateExpression:
            'SET #state = :sending, #owner = :owner, leaseUntil = :lease, attempts = if_not_exists(attempts, :zero) + :one, firstAt = if_not_exists(firstAt, :at), expiresAt = :keep',
          ConditionExpression: 'attribute_not_exists(pk) OR (#state = :sending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':sending': 'SENDING',
            ':owner': owner,
            ':lease': now + leaseSeconds,
            ':zero': 0,
            ':one': 1,
            ':at': new Date(nowMs).toISOString(),
            ':keep': now + KEEP_SECONDS,
            ':now': now,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { state: 'claimed', attempts: Number(out.Attributes?.attempts ?? 1) };
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB UpdateItem (feedback claim)', error);
    }
    const out = await this.db
      .send(new GetCommand({ TableName: this.table, Key: feedbackKey(key, channel), ConsistentRead: true }))
      .catch((error) => {
        throw awsDependencyError('DynamoDB GetItem (feedback claim)', error);
      });
    const state = out.Item?.state;
    if (state === 'SENT') return { state: 'sent' };
    if (state === 'REJECTED') return { state: 'rejected', detail: String(out.Item?.detail ?? '') };
    return { state: 'busy' };
  }

  async finish(
    key: string,
    channel: string,
    outcome: 'SENT' | 'REJECTED',
    nowMs: number,
    detail: string,
  ): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: feedbackKey(key, channel),
          UpdateExpression: 'SET #state = :state, endedAt = :at, detail = :detail REMOVE leaseUntil',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':state': outcome,
            ':at': new Date(nowMs).toISOString(),
            ':detail': detail.slice(0, 1000),
          },
        }),
      )
      .catch((error) => {
        throw awsDependencyError('DynamoDB UpdateItem (feedback result)', error);
      });
  }

  /** Gives the lease back for a retry, if this call still holds it. */
  async release(key: string, channel: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: feedbackKey(key, channel),
          UpdateExpression: 'SET leaseUntil = :zero',
          ConditionExpression: '#state = :sending AND #owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: { ':zero': 0, ':sending': 'SENDING', ':owner': owner },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error))
        throw awsDependencyError('DynamoDB UpdateItem (feedback release)', error);
    }
  }
}
