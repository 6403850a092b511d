import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { evidenceKey } from '../../shared/aws/s3-evidence';
import type { EvidenceStore, RawEvidence } from '../../shared/ports';

/**
 * Raw evidence in a folder (the local state folder's `evidence/`), one JSON file per
 * verification, laid out as the S3 keys are.
 */
export class FileEvidenceStore implements EvidenceStore {
  constructor(private readonly dir: string) {}

  async put(evidence: RawEvidence): Promise<string> {
    const key = evidenceKey(evidence);
    const file = join(this.dir, key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(evidence)}\n`);
    return `file:${key}`;
  }

  async get(ref: string): Promise<RawEvidence | undefined> {
    if (!ref.startsWith('file:')) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.dir, ref.slice('file:'.length)), 'utf8')) as RawEvidence;
    } catch {
      return undefined;
    }
  }
}

/** Raw evidence in memory, the most recent `limit` verifications (a twin without a state folder). */
export class MemoryEvidenceStore implements EvidenceStore {
  private readonly items = new Map<string, RawEvidence>();
  constructor(private readonly limit = 100) {}

  async put(evidence: RawEvidence): Promise<string> {
    const ref = `memory:${evidenceKey(evidence)}`;
    this.items.delete(ref);
    this.items.set(ref, evidence);
    while (this.items.size > this.limit) {
      const oldest = this.items.keys().next().value;
      if (oldest === undefined) break;
      this.items.delete(oldest);
    }
    return ref;
  }

  async get(ref: string): Promise<RawEvidence | undefined> {
    return this.items.get(ref);
  }
}
