import { createHash } from 'node:crypto';
import {
  InvalidParameterException,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import type { AuthorizationRequest, Caller, ServiceEmulator } from '../twin/contracts';
import { serviceError, twinArn } from '../twin/contracts';

/** A secret as the twin keeps it: its current version only (AWSCURRENT). */
export interface SecretSpec {
  /** The complete ARN (name, dash, six characters); made from the name when absent. */
  arn?: string;
  name: string;
  value: string;
}

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
  createdDate: Date;
  /** Set by `scheduleDeletion`: reads then fail with InvalidRequestException, as on AWS. */
  deletedDate?: Date;
}

/** The six characters Secrets Manager appends to a name in the ARN; here derived from the name. */
export function twinSecretArn(name: string): string {
  const suffix = createHash('sha256').update(name).digest('base64url').replace(/[-_]/g, 'x').slice(0, 6);
  return twinArn('secretsmanager', `secret:${name}-${suffix}`);
}

const ARN_PREFIX = 'arn:';

/**
 * Secrets Manager as the app uses it (the CI notifier's GetSecretValue), with AWS's semantics
 * (Secrets Manager API Reference, GetSecretValue):
 * - SecretId is the name or the ARN (complete, or partial without the six-character suffix).
 * - Only the AWSCURRENT stage exists here; a VersionStage other than it, or a VersionId that is not
 *   the current one, is ResourceNotFoundException ("Secrets Manager can't find the specified secret
 *   value for staging label: X" / "... for VersionId: X"); giving both is InvalidParameterException
 *   only when they disagree, as AWS resolves them together.
 * - An unknown secret is ResourceNotFoundException ("Secrets Manager can't find the specified
 *   secret."); a secret scheduled for deletion is InvalidRequestException ("You can't perform this
 *   operation on the secret because it was marked for deletion.").
 * - IAM: secretsmanager:GetSecretValue on the secret's ARN (the complete one when the secret
 *   exists; otherwise the ARN asked for, or the name's ARN without a suffix), so a role granted
 *   one secret's ARN cannot read another and a missing grant is AccessDeniedException first.
 * A secret encrypted with the AWS-managed `aws/secretsmanager` key needs no KMS grant; the twin
 * keeps no customer managed keys.
 */
export class SecretsManagerEmulator implements ServiceEmulator {
  readonly prefix = 'secretsmanager' as const;
  private readonly secrets = new Map<string, StoredSecret>();
  private versions = 0;

  constructor(
    private readonly clock: { now(): Date },
    secrets: readonly SecretSpec[] = [],
  ) {
    for (const s of secrets) this.putSecret(s);
  }

  /** Creates a secret or makes `value` its new current version (the operator's side). */
  putSecret(spec: SecretSpec): string {
    const arn = spec.arn ?? twinSecretArn(spec.name);
    if (!/^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(arn)) {
      throw new Error(`putSecret: ${arn} is not a complete Secrets Manager ARN`);
    }
    this.versions++;
    this.secrets.set(arn, {
      arn,
      name: spec.name,
      value: spec.value,
      versionId: `00000000-0000-4000-8000-${String(this.versions).padStart(12, '0')}`,
      createdDate: this.clock.now(),
    });
    return arn;
  }

  /** DeleteSecret with a recovery window: the secret stays, and reads are refused. */
  scheduleDeletion(arn: string): void {
    const secret = this.secrets.get(arn);
    if (secret) secret.deletedDate = this.clock.now();
  }

  private find(secretId: string): StoredSecret | undefined {
    for (const s of this.secrets.values()) {
      if (s.arn === secretId || s.name === secretId) return s;
      // A partial ARN: the complete one without its dash and six characters.
      if (secretId.startsWith(ARN_PREFIX) && s.arn.slice(0, -7) === secretId) return s;
    }
    return undefined;
  }

  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const id = String(input.SecretId ?? '');
    const found = this.find(id);
    const resource =
      found?.arn ?? (id.startsWith(ARN_PREFIX) ? id : twinArn('secretsmanager', `secret:${id}`));
    return [{ action: `secretsmanager:${command}`, resource }];
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    _caller: Caller,
  ): Promise<Record<string, unknown>> {
    if (command !== 'GetSecretValue') {
      throw serviceError(
        SecretsManagerServiceException,
        'UnknownOperationException',
        `The twin's Secrets Manager does not implement ${command}`,
      );
    }
    const id = input.SecretId;
    if (typeof id !== 'string' || id.length < 1 || id.length > 2048) {
      throw serviceError(
        InvalidParameterException,
        'InvalidParameterException',
        'Invalid parameter: SecretId must be between 1 and 2048 characters',
      );
    }
    const secret = this.find(id);
    if (!secret) {
      throw serviceError(
        ResourceNotFoundException,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    if (secret.deletedDate) {
      throw serviceError(
        InvalidRequestException,
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    const stage = input.VersionStage;
    if (stage !== undefined && stage !== 'AWSCURRENT') {
      throw serviceError(
        ResourceNotFoundException,
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for staging label: ${String(stage)}`,
      );
    }
    const versionId = input.VersionId;
    if (versionId !== undefined && versionId !== secret.versionId) {
      throw serviceError(
        ResourceNotFoundException,
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${String(versionId)}`,
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      SecretString: secret.value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate,
    };
  }
}
