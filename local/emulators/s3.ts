import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
 * buckets the template declares, with S3's errors. Objects are kept in the state folder
 * (`s3/<bucket>/<key>`) when there is one, so they last as S3's do; in memory otherwise.
 * IAM (Service Authorization Reference, Amazon S3): both actions on the object's ARN,
 * `arn:aws:s3:::<bucket>/<key>`. With SSE-KMS under the AWS-managed `aws/s3` key, the key's own
 * policy lets any principal of the account use it through S3, so no KMS grant is checked.
 */
export class S3Emulator implements ServiceEmulator {
  readonly prefix = 's3' as const;
  private readonly buckets = new Map<string, Map<string, StoredObject>>();

  constructor(
    bucketNames: readonly string[],
    /** Where objects are written; memory when absent. */
    private readonly dir?: string,
  ) {
    for (const name of bucketNames) this.buckets.set(name, new Map());
  }

  private fileOf(bucket: string, key: string): string {
    return join(this.dir as string, 's3', bucket, ...key.split('/'));
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
        if (this.dir) {
          // Slashes make folders; an empty or `..` segment could leave the bucket's folder.
          if (key.split('/').some((part) => part === '..' || part === '')) {
            throw serviceError(
              S3ServiceException,
              'InvalidArgument',
              `the twin does not store the key ${key}`,
            );
          }
          const file = this.fileOf(String(input.Bucket), key);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, text);
          return { ETag: `"${text.length.toString(16)}"` };
        }
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
        const file = this.dir ? this.fileOf(String(input.Bucket), key) : undefined;
        const object = file
          ? existsSync(file)
            ? { body: readFileSync(file, 'utf8') }
            : undefined
          : bucket.get(key);
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
