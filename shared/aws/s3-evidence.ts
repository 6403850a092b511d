import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EvidenceStore, RawEvidence } from '../ports';

/**
 * Raw probe samples in S3, one JSON object per verification under
 * `verification/<component>/<environment>/<workflow id>.json`, encrypted with the bucket's KMS key
 * (SSE-KMS; the bucket's default key when `kmsKeyId` is not given). The workflow record keeps the
 * `s3://` reference and the compact table only.
 */
export class S3EvidenceStore implements EvidenceStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly kmsKeyId?: string,
  ) {}

  async put(evidence: RawEvidence): Promise<string> {
    const key = evidenceKey(evidence);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(evidence),
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        ...(this.kmsKeyId ? { SSEKMSKeyId: this.kmsKeyId } : {}),
        Metadata: {
          component: evidence.component,
          environment: evidence.environment,
          'candidate-version': evidence.candidateVersion,
        },
      }),
    );
    return `s3://${this.bucket}/${key}`;
  }

  async get(ref: string): Promise<RawEvidence | undefined> {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
    if (!m || m[1] !== this.bucket) return undefined;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: m[2] }));
      const text = await res.Body?.transformToString('utf-8');
      return text ? (JSON.parse(text) as RawEvidence) : undefined;
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}

/** The object key of one verification's evidence: readable, and unique per workflow. */
export function evidenceKey(e: Pick<RawEvidence, 'component' | 'environment' | 'workflowId'>): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `verification/${safe(e.component)}/${safe(e.environment)}/${safe(e.workflowId)}.json`;
}
