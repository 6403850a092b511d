import { NoSuchBucket, NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import type { AuthorizationRequest, Caller, ServiceEmulator } from '../twin/contracts';
import { serviceError, TWIN_PARTITION } from '../twin/contracts';

interface StoredObject {
  body: string;
  contentType?: string;
  metadata?: Record<string, string>;
  serverSideEncryption?: string;
}

/**
 * The S3 calls the app makes (the Verify step's raw evidence): PutObject and GetObject on the
 * buckets the template declares, with S3's errors. Objects are kept in memory.
 * IAM (Service Authorization Reference, Amazon S3): both actions on the object's ARN,
 * `arn:aws:s3:::<bucket>/<key>`. With SSE-KMS under the AWS-managed `aws/s3` key, the key's own
 * policy lets any principal of the account use it through S3, so no KMS grant is checked.
 */
export class S3Emulator implements ServiceEmulator {
  readonly prefix = 's3' as const;
  private readonly buckets = new Map<string, Map<string, StoredObject>>();

  constructor(bucketNames: readonly string[]) {
    for (const name of bucketNames) this.buckets.set(name, new Map());
  }

  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const resource = `arn:${TWIN_PARTITION}:s3:::${String(input.Bucket ?? '')}/${String(input.Key ?? '')}`;
    return [{ action: `s3:${command}`, resource }];
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    _caller: Caller,
  ): Promise<Record<string, unknown>> {
    const bucket = this.buckets.get(String(input.Bucket ?? ''));
    if (!bucket)
      throw serviceError(NoSuchBucket, 'NoSuchBucket', 'The specified bucket does not exist', {
        httpStatusCode: 404,
      });
    const key = String(input.Key ?? '');
    switch (command) {
      case 'PutObject': {
        const body = input.Body;
        const text =
          typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : '';
        bucket.set(key, {
          body: text,
          ...(typeof input.ContentType === 'string' ? { contentType: input.ContentType } : {}),
          ...(input.Metadata ? { metadata: input.Metadata as Record<string, string> } : {}),
          ...(typeof input.ServerSideEncryption === 'string'
            ? { serverSideEncryption: input.ServerSideEncryption }
            : {}),
        });
        return {
          ETag: `"${text.length.toString(16)}"`,
          ...(input.ServerSideEncryption ? { ServerSideEncryption: input.ServerSideEncryption } : {}),
        };
      }
      case 'GetObject': {
        const object = bucket.get(key);
        if (!object)
          throw serviceError(NoSuchKey, 'NoSuchKey', 'The specified key does not exist.', {
            httpStatusCode: 404,
          });
        const bytes = new TextEncoder().encode(object.body);
        return {
          Body: Object.assign(bytes, { transformToString: async () => object.body }),
          ContentLength: bytes.length,
          ...(object.contentType ? { ContentType: object.contentType } : {}),
          ...(object.metadata ? { Metadata: object.metadata } : {}),
        };
      }
      default:
        throw serviceError(S3ServiceException, 'NotImplemented', `${command} is not emulated`, {
          httpStatusCode: 501,
        });
    }
  }
}
