/**
 * Limits that values from outside must respect before they reach DynamoDB keys, CodeDeploy or the
 * bus. AWS's own ceilings are far above these, so a value that passes here never makes a request
 * fail with a ValidationException, and such a failure is never taken for a transient one.
 *
 * - DynamoDB: a partition key holds at most 2048 bytes, a sort key 1024 bytes (UTF-8), an item
 *   400 KB. The longest key Upshift builds from an event is the dedupe claim
 *   `DEDUPE#<component>#<environment>#<version>`: 7 + 63 + 1 + 63 + 1 + 128 = 263 bytes.
 * - EventBridge: an entry is at most 256 KiB; the largest free-form part of an event we accept
 *   (`detail.metadata`) is capped at 8 KiB so the event, its record and its history stay small.
 */
export const limits = {
  /** Characters of a version. ECR and Docker cap an image tag at 128, so both paths agree. */
  versionChars: 128,
  labelChars: 64,
  labels: 20,
  commitChars: 64,
  actorChars: 256,
  reasonChars: 1000,
  /** UTF-8 bytes of `detail.metadata` once serialized. */
  metadataBytes: 8 * 1024,
} as const;

/** The UTF-8 length of a string, which is what DynamoDB and EventBridge count. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
