import type { Target } from './catalog';

/**
 * Where a target lives when it is not in the pipeline's own account (docs/decisions/0028): the
 * account, the region (the pipeline's own when absent) and the role Upshift assumes there.
 */
export interface TargetLocation {
  account: string;
  region?: string;
  roleName: string;
}

/** The target's location, or undefined for a target in the pipeline's own account and region. */
export function locationOf(
  target: Pick<Target, 'account' | 'region' | 'roleName'>,
): TargetLocation | undefined {
  if (!target.account || !target.roleName) return undefined;
  return {
    account: target.account,
    roleName: target.roleName,
    ...(target.region ? { region: target.region } : {}),
  };
}

/**
 * The partition a region belongs to (AWS's partitions: aws, aws-cn, aws-us-gov and the isolated
 * ones), so that a role ARN is right wherever the pipeline runs.
 */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}

/** The ARN of the role Upshift assumes for a target, in the partition of `pipelineRegion`. */
export function targetRoleArn(location: TargetLocation, pipelineRegion: string): string {
  return `arn:${partitionOf(location.region ?? pipelineRegion)}:iam::${location.account}:role/${location.roleName}`;
}

/**
 * An id (a deployment id, an alarm name) of a resource in a target's account, qualified with where
 * it lives: `d-ABC123@111122223333:eu-west-1:upshift-target`. The steps carry it as they carry a
 * plain id, and the adapters route each call by it; a target in the pipeline's own account keeps
 * its plain id. Deployment ids and alarm names made by Upshift hold no `@`; role names may, and
 * come last.
 */
export function locate(id: string, location: TargetLocation | undefined): string {
  if (!location) return id;
  return `${id}@${location.account}:${location.region ?? ''}:${location.roleName}`;
}

const located = /^([^@]+)@(\d{12}):([a-z0-9-]*):([\w+=,.@-]{1,64})$/;

/** The plain id and its location: the inverse of `locate`. A plain id has no location. */
export function unlocate(ref: string): { id: string; location?: TargetLocation } {
  const m = located.exec(ref);
  if (!m?.[1] || !m[2] || m[3] === undefined || !m[4]) return { id: ref };
  return {
    id: m[1],
    location: { account: m[2], roleName: m[4], ...(m[3] ? { region: m[3] } : {}) },
  };
}

/** One key per location (credentials and clients are kept per key). */
export function locationKey(location: TargetLocation): string {
  return `${location.account}:${location.region ?? ''}:${location.roleName}`;
}
