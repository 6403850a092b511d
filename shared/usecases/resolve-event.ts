import {
  type Component,
  defaultEnvironment,
  environmentAlarms,
  environmentOf,
  type Target,
  targetFor,
} from '../domain/catalog';
import { NotFound } from '../domain/errors';
import type { Artifact } from '../domain/events/artifact';
import * as ecr from '../domain/events/ecr-image-action';
import { routingFields } from '../domain/events/envelope';
import * as rollbackRequested from '../domain/events/rollback-requested';
import type { Reason } from '../domain/events/upshift-events';
import * as published from '../domain/events/version-published';
import { isSemVer } from '../domain/semver';
import {
  MAX_CARRIED_PROBES_CHARS,
  type Resolved as ResolvedTarget,
  type UpgradeRequest,
} from '../domain/workflow';
import { describeIssues } from '../domain/zod-issues';
import type { CatalogStore, StoredPolicy } from '../ports';

/** Unparsable input is passed as `{ "upshift:unparsable": text, "parseError": message }`. */
export const UNPARSABLE = 'upshift:unparsable';

export interface Candidate {
  component: string;
  environment?: string;
  /** For a rollback request, the version asked for (or empty: the one before the current). */
  version: string;
  /** For a rollback request, filled from the registry by Intake. */
  artifact: Artifact;
  rollback?: { reason: string; requestedBy?: string };
  labels: string[];
  commit?: string;
  /** When the commit was made (Version Published `committedAt`). */
  committedAt?: string;
  publishedBy?: string;
  source: string;
  eventId: string;
}

type Parsed =
  | { candidate: Candidate }
  | { outcome: 'INVALID' | 'IGNORED'; reasons: Reason[]; meta?: Partial<Candidate> };

export type Resolved =
  | {
      ok: true;
      candidate: Candidate;
      component: Component;
      environment: string;
      envConfig: Component['environments'][string];
      target: Target;
    }
  | { ok: false; outcome: 'INVALID' | 'IGNORED'; reasons: Reason[]; meta: Partial<Candidate> };

function invalidEvent(error: import('zod').ZodError): Parsed {
  return {
    outcome: 'INVALID',
    reasons: describeIssues(error).map((message) => ({ code: 'INVALID_EVENT', message })),
  };
}

async function parseEvent(
  event: unknown,
  catalog: Pick<CatalogStore, 'findComponentByRepository'>,
): Promise<Parsed> {
  if (event && typeof event === 'object' && UNPARSABLE in event) {
    const message = String((event as Record<string, unknown>).parseError ?? 'not JSON');
    return {
      outcome: 'INVALID',
      reasons: [{ code: 'MALFORMED_JSON', message: `(root): malformed JSON: ${message}` }],
    };
  }
  const routing = routingFields.safeParse(event);
  if (!routing.success) {
    return {
      outcome: 'INVALID',
      reasons: describeIssues(routing.error).map((message) => ({ code: 'INVALID_EVENT', message })),
    };
  }
  const detailType = routing.data['detail-type'];
  if (detailType === published.detailType) {
    const result = published.schema.safeParse(event);
    if (!result.success) return invalidEvent(result.error);
    const e = result.data;
    return {
      candidate: {
        component: e.detail.component,
        ...(e.detail.environment ? { environment: e.detail.environment } : {}),
        version: e.detail.version,
        artifact: e.detail.artifact,
        labels: e.detail.labels,
        ...(e.detail.commit ? { commit: e.detail.commit } : {}),
        ...(e.detail.committedAt ? { committedAt: e.detail.committedAt } : {}),
        ...(e.detail.publishedBy ? { publishedBy: e.detail.publishedBy } : {}),
        source: e.source,
        eventId: e.id,
      },
    };
  }
  if (detailType === rollbackRequested.detailType) {
    const result = rollbackRequested.schema.safeParse(event);
    if (!result.success) return invalidEvent(result.error);
    const e = result.data;
    return {
      candidate: {
        component: e.detail.component,
        environment: e.detail.environment,
        version: e.detail.toVersion ?? '',
        // Placeholder until Intake reads the registry: a rollback deploys a version already known.
        artifact: { type: 'image', repository: '-', tag: '-', digest: '-' },
        labels: [],
        rollback: {
          reason: e.detail.reason,
          ...(e.detail.requestedBy ? { requestedBy: e.detail.requestedBy } : {}),
        },
        ...(e.detail.requestedBy ? { publishedBy: e.detail.requestedBy } : {}),
        source: e.source,
        eventId: e.id,
      },
    };
  }
  if (detailType === ecr.detailType && routing.data.source === ecr.source) {
    const result = ecr.schema.safeParse(event);
    if (!result.success) return invalidEvent(result.error);
    const d = result.data.detail;
    if (d['action-type'] !== 'PUSH' || d.result !== 'SUCCESS') {
      return {
        outcome: 'IGNORED',
        reasons: [
          {
            code: 'NOT_A_PUSH',
            message: `ECR ${d['action-type']} with result ${d.result} does not publish a version`,
          },
        ],
      };
    }
    const component = await catalog.findComponentByRepository(d['repository-name']);
    if (!component) {
      return {
        outcome: 'IGNORED',
        reasons: [
          {
            code: 'UNKNOWN_REPOSITORY',
            message: `no component declares ECR repository "${d['repository-name']}"`,
          },
        ],
      };
    }
    const tag = d['image-tag'] ?? '';
    if (!isSemVer(tag)) {
      return {
        outcome: 'IGNORED',
        reasons: [{ code: 'TAG_NOT_SEMVER', message: `image tag "${tag}" is not a semantic version` }],
        meta: { component },
      };
    }
    return {
      candidate: {
        component,
        version: tag.replace(/^v/, ''),
        artifact: {
          type: 'image',
          repository: d['repository-name'],
          tag,
          digest: d['image-digest'],
          imageUri: `${result.data.account}.dkr.ecr.${result.data.region}.amazonaws.com/${d['repository-name']}@${d['image-digest']}`,
        },
        labels: [],
        source: result.data.source,
        eventId: result.data.id,
      },
    };
  }
  return {
    outcome: 'IGNORED',
    reasons: [
      {
        code: 'UNROUTED_EVENT',
        message: `no component claims "${detailType}" events from ${routing.data.source}`,
      },
    ],
  };
}

/**
 * Validates an event and finds what it asks for: the component, the environment (given, or the
 * component's first) and its target. Used by Intake and by the dry-run `policies explain`.
 */
export async function resolveEvent(event: unknown, catalog: CatalogStore): Promise<Resolved> {
  const parsed = await parseCandidate(event, catalog);
  if (!parsed.ok) return parsed;
  return resolveCandidate(parsed.candidate, await catalog.getComponent(parsed.candidate.component));
}

/**
 * The first half of resolveEvent: the event validated and turned into a candidate (an ECR push
 * reads which component the repository belongs to), before the component is read. Intake reads
 * the component together with the policy and the registry when the event names its environment.
 */
export async function parseCandidate(
  event: unknown,
  catalog: Pick<CatalogStore, 'findComponentByRepository'>,
): Promise<{ ok: true; candidate: Candidate } | Extract<Resolved, { ok: false }>> {
  const parsed = await parseEvent(event, catalog);
  if (!('candidate' in parsed))
    return { ok: false, outcome: parsed.outcome, reasons: parsed.reasons, meta: parsed.meta ?? {} };
  return { ok: true, candidate: parsed.candidate };
}

/** The second half of resolveEvent: the candidate against its component, as read. */
export function resolveCandidate(c: Candidate, component: Component | undefined): Resolved {
  if (!component) {
    return {
      ok: false,
      outcome: 'IGNORED',
      reasons: [{ code: 'UNKNOWN_COMPONENT', message: `component "${c.component}" is not in the catalog` }],
      meta: c,
    };
  }
  const environment = c.environment ?? defaultEnvironment(component);
  // Own entries only: an environment called `constructor` must not find Object's.
  const envConfig = environmentOf(component, environment);
  if (!envConfig) {
    return {
      ok: false,
      outcome: 'IGNORED',
      reasons: [
        {
          code: 'UNKNOWN_ENVIRONMENT',
          message: `component "${c.component}" has no environment "${environment}" (it has ${Object.keys(component.environments).join(', ')})`,
        },
      ],
      meta: { ...c, environment },
    };
  }
  const target = targetFor(component, environment);
  const artifactPlatform = c.artifact.type === 'image' ? 'ecs' : c.artifact.type;
  if (!c.rollback && artifactPlatform !== target.type) {
    return {
      ok: false,
      outcome: 'INVALID',
      reasons: [
        {
          code: 'ARTIFACT_MISMATCH',
          message: `detail.artifact.type: expected "${target.type}" for ${c.component} in ${environment}, got "${c.artifact.type}"`,
        },
      ],
      meta: { ...c, environment },
    };
  }
  // Verify probes the artifact's function and Deploy shifts the target's alias: they must be the
  // same function, or the evidence would be about another one.
  if (
    !c.rollback &&
    c.artifact.type === 'lambda' &&
    target.type === 'lambda' &&
    functionNameOf(c.artifact.functionName) !== target.functionName
  ) {
    return {
      ok: false,
      outcome: 'INVALID',
      reasons: [
        {
          code: 'ARTIFACT_MISMATCH',
          message: `detail.artifact.functionName: expected "${target.functionName}" (the function ${c.component} deploys in ${environment}), got "${c.artifact.functionName}"`,
        },
      ],
      meta: { ...c, environment },
    };
  }
  return { ok: true, candidate: { ...c, environment }, component, environment, envConfig, target };
}

/** The function's name from a name, a partial ARN or an ARN (without a qualifier). */
function functionNameOf(nameOrArn: string): string {
  const m = /(?:^|:function:)([A-Za-z0-9_-]+)(?::[^:]+)?$/.exec(nameOrArn);
  return m?.[1] ?? nameOrArn;
}

/**
 * What the later steps need of the component and the policy, carried in the request so that they
 * do not read the catalog again (decision 0018). Probes too large to carry stay in the catalog.
 */
export function resolvedFor(
  componentName: string,
  component: Component,
  environment: string,
  policy: StoredPolicy | undefined,
): ResolvedTarget {
  const probesFit = JSON.stringify(component.probes).length <= MAX_CARRIED_PROBES_CHARS;
  return {
    target: targetFor(component, environment),
    alarmNames: environmentAlarms(componentName, component, environment),
    ...(probesFit ? { probes: component.probes } : {}),
    ...(policy ? { policyVersion: policy.version, verification: policy.policy.verification } : {}),
    ...(environmentOf(component, environment)?.mode === 'shadow' ? { shadow: true } : {}),
  };
}

/**
 * The target and alarm names of a request: what Intake resolved, or, for an execution started
 * before Intake carried them, the catalog's.
 */
export async function targetOfRequest(
  request: Pick<UpgradeRequest, 'component' | 'environment' | 'resolved'>,
  catalog: Pick<CatalogStore, 'getComponent'>,
): Promise<{ target: Target; alarmNames: string[] }> {
  if (request.resolved) return { target: request.resolved.target, alarmNames: request.resolved.alarmNames };
  const component = await catalog.getComponent(request.component);
  if (!component) throw new NotFound(`component ${request.component} is no longer in the catalog`);
  return resolvedFor(request.component, component, request.environment, undefined);
}
