import { S3Client } from '@aws-sdk/client-s3';
import type { EvidenceStore } from '../ports';
import { type AwsBase, once } from './ports';
import { S3EvidenceStore } from './s3-evidence';

/** Raw verification evidence: S3 when UPSHIFT_EVIDENCE_BUCKET names a bucket; else what the options give. */
export function evidencePorts(base: AwsBase) {
  return {
    evidence: once((): EvidenceStore | undefined =>
      base.env.UPSHIFT_EVIDENCE_BUCKET
        ? new S3EvidenceStore(
            base.client(S3Client),
            base.env.UPSHIFT_EVIDENCE_BUCKET,
            base.env.UPSHIFT_EVIDENCE_KMS_KEY_ID || undefined,
          )
        : base.options.evidence,
    ),
  };
}
