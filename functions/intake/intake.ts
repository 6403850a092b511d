import { type Component, defaultEnvironment, targetFor } from '../../shared/domain/catalog';
import type { Artifact } from '../../shared/domain/events/artifact';
import * as ecr from '../../shared/domain/events/ecr-image-action';
import { routingFields } from '../../shared/domain/events/envelope';
import {
  detailTypes,
  type Reason,
  version as schemaVersion,
  source as upshiftSource,
} from '../../shared/domain/events/upshift-events';
import * as published from '../../shared/domain/events/version-published';
import { classifyBump, compareVersions, isSemVer } from '../../shared/domain/semver';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import { describeIssues } from '../../shared/domain/zod-issues';
import type {
  CatalogStore,
  Clock,
  DedupeStore,
  EventPublisher,
  RegistryStore,
  WorkflowStore,
} from '../../shared/ports';

export interface IntakeInput {
  event: unknown;
  workflowId: string;
}

export type IntakeOutcome = 'ACCEPTED' | 'SKIPPED' | 'IGNORED' | 'INVALID';

export interface IntakeResult {
  outcome: IntakeOutcome;
  workflowId: string;
  reasons: Reason[];
  request?: UpgradeRequest;
}

export interface IntakePorts {
  catalog: CatalogStore;
  registry: RegistryStore;
  dedupe: DedupeStore;
  workflows: WorkflowStore;
  events: EventPublisher;
  clock: Clock;
}

/** The key that makes a second delivery of the same upgrade a duplicate. */
export function dedupeKey(component: string, environment: string, version: string): string {
  return `${component}#${environment}#${version}`;
}

interface Candidate {
  component: string;
  environment?: string;
  version: string;
  artifact: Artifact;
  labels: string[];
  commit?: string;
  publishedBy?: string;
  source: string;
  eventId: string;
}

type Parsed =
  | { candidate: Candidate }
  | { outcome: 'INVALID' | 'IGNORED'; reasons: Reason[]; meta?: Partial<Candidate> };

/** Unparsable input is passed as `{ "upshift:unparsable": text, "parseError": message }`. */
export const UNPARSABLE = 'upshift:unparsable';

async function parseEvent(event: unknown, catalog: CatalogStore): Promise<Parsed> {
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
    if (!result.success) {
      return {
        outcome: 'INVALID',
        reasons: describeIssues(result.error).map((message) => ({ code: 'INVALID_EVENT', message })),
      };
    }
    const e = result.data;
    return {
      candidate: {
        component: e.detail.component,
        ...(e.detail.environment ? { environment: e.detail.environment } : {}),
        version: e.detail.version,
        artifact: e.detail.artifact,
        labels: e.detail.labels,
        ...(e.detail.commit ? { commit: e.detail.commit } : {}),
        ...(e.detail.publishedBy ? { publishedBy: e.detail.publishedBy } : {}),
        source: e.source,
        eventId: e.id,
      },
    };
  }
  if (detailType === ecr.detailType && routing.data.source === ecr.source) {
    const result = ecr.schema.safeParse(event);
    if (!result.success) {
      return {
        outcome: 'INVALID',
        reasons: describeIssues(result.error).map((message) => ({ code: 'INVALID_EVENT', message })),
      };
    }
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
        artifact: { type: 'image', repository: d['repository-name'], tag, digest: d['image-digest'] },
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
 * Intake: turns an event into an UpgradeRequest, or ends it with a recorded reason.
 * 1. validate the event against its detail-type's schema (INVALID names each field);
 * 2. find the component and environment in the catalog (IGNORED when nobody claims it);
 * 3. claim the dedupe key, so a second delivery is SKIPPED as a duplicate;
 * 4. compare with the registry's current version (SKIPPED when not newer);
 * 5. record the workflow and announce `Upgrade Started`.
 */
export async function intake(input: IntakeInput, ports: IntakePorts): Promise<IntakeResult> {
  const { workflowId } = input;
  const now = ports.clock.now().toISOString();
  const parsed = await parseEvent(input.event, ports.catalog);
  const rawMeta = eventMeta(input.event);

  const finishEarly = async (
    outcome: IntakeOutcome,
    reasons: Reason[],
    meta: Partial<Candidate> & { environment?: string },
  ): Promise<IntakeResult> => {
    await ports.workflows.create({
      workflowId,
      status: 'RUNNING',
      reasons,
      ...(meta.component ? { component: meta.component } : {}),
      ...(meta.environment ? { environment: meta.environment } : {}),
      ...(meta.version ? { version: meta.version } : {}),
      ...(rawMeta.source ? { source: rawMeta.source } : {}),
      ...(rawMeta.eventId ? { eventId: rawMeta.eventId } : {}),
      startedAt: now,
      history: [
        { stage: 'Intake', at: now, status: outcome, detail: reasons.map((r) => r.message).join('; ') },
      ],
      evidence: {},
    });
    return { outcome, workflowId, reasons };
  };

  if (!('candidate' in parsed)) return finishEarly(parsed.outcome, parsed.reasons, parsed.meta ?? {});
  const c = parsed.candidate;

  const component: Component | undefined = await ports.catalog.getComponent(c.component);
  if (!component) {
    return finishEarly(
      'IGNORED',
      [{ code: 'UNKNOWN_COMPONENT', message: `component "${c.component}" is not in the catalog` }],
      c,
    );
  }
  const environment = c.environment ?? defaultEnvironment(component);
  const envConfig = component.environments[environment];
  if (!envConfig) {
    return finishEarly(
      'IGNORED',
      [
        {
          code: 'UNKNOWN_ENVIRONMENT',
          message: `component "${c.component}" has no environment "${environment}" (it has ${Object.keys(component.environments).join(', ')})`,
        },
      ],
      { ...c, environment },
    );
  }
  const target = targetFor(component, environment);
  const artifactPlatform = c.artifact.type === 'image' ? 'ecs' : c.artifact.type;
  if (artifactPlatform !== target.type) {
    return finishEarly(
      'INVALID',
      [
        {
          code: 'ARTIFACT_MISMATCH',
          message: `detail.artifact.type: expected "${target.type}" for ${c.component} in ${environment}, got "${c.artifact.type}"`,
        },
      ],
      { ...c, environment },
    );
  }

  await ports.registry.seed({
    component: c.component,
    environment,
    current: { ...envConfig.baseline, at: now },
    lastKnownGood: { ...envConfig.baseline, at: now },
  });
  const key = dedupeKey(c.component, environment, c.version);
  const claim = await ports.dedupe.claim(key, workflowId, now);
  if (!claim.claimed && claim.workflowId !== workflowId) {
    return finishEarly(
      'SKIPPED',
      [
        {
          code: 'DUPLICATE',
          message: `${c.component} ${c.version} in ${environment} is already handled by ${claim.workflowId}`,
        },
      ],
      { ...c, environment },
    );
  }
  const registry = await ports.registry.get(c.component, environment);
  const currentVersion = registry?.current.version;
  if (currentVersion && compareVersions(c.version, currentVersion) <= 0) {
    await ports.dedupe.release(key, workflowId);
    return finishEarly(
      'SKIPPED',
      [
        {
          code: 'VERSION_NOT_NEWER',
          message: `${c.version} is not newer than ${currentVersion}, the current version of ${c.component} in ${environment}`,
        },
      ],
      { ...c, environment },
    );
  }

  const request: UpgradeRequest = {
    workflowId,
    component: c.component,
    environment,
    version: c.version,
    artifact: c.artifact,
    platform: target.type,
    labels: c.labels,
    ...(c.commit ? { commit: c.commit } : {}),
    ...(c.publishedBy ? { publishedBy: c.publishedBy } : {}),
    source: c.source,
    eventId: c.eventId,
    receivedAt: now,
    ...(currentVersion ? { currentVersion } : {}),
    ...(registry?.current.artifact ? { currentArtifact: registry.current.artifact } : {}),
    bump: classifyBump(currentVersion, c.version),
  };
  await ports.workflows.create({
    workflowId,
    status: 'RUNNING',
    reasons: [],
    component: c.component,
    environment,
    version: c.version,
    source: c.source,
    eventId: c.eventId,
    startedAt: now,
    history: [
      {
        stage: 'Intake',
        at: now,
        status: 'ACCEPTED',
        detail: `${c.component} ${currentVersion ?? '(none)'} -> ${c.version} in ${environment} (${request.bump})`,
      },
    ],
    evidence: { request },
  });
  await ports.events.publish([
    {
      source: upshiftSource,
      detailType: detailTypes.started,
      time: now,
      detail: {
        schemaVersion,
        workflowId,
        component: c.component,
        environment,
        version: c.version,
        ...(currentVersion ? { currentVersion } : {}),
        bump: request.bump,
        reasons: [],
      },
    },
  ]);
  return { outcome: 'ACCEPTED', workflowId, reasons: [], request };
}

function eventMeta(event: unknown): { source?: string; eventId?: string } {
  if (!event || typeof event !== 'object') return {};
  const e = event as Record<string, unknown>;
  return {
    ...(typeof e.source === 'string' ? { source: e.source } : {}),
    ...(typeof e.id === 'string' ? { eventId: e.id } : {}),
  };
}
