import { z } from 'zod';
import { alarmName, targetFor } from '../domain/catalog';
import * as rollbackRequested from '../domain/events/rollback-requested';
import {
  outcomeSchema,
  type Reason,
  reasonSchema,
  source as upshiftSource,
} from '../domain/events/upshift-events';
import * as published from '../domain/events/version-published';
import { limits } from '../domain/limits';
import { compareVersions } from '../domain/semver';
import {
  applyStageEvent,
  endSoak,
  PROMOTION_SOURCE,
  promotedArtifact,
  promotionOrder,
  publishFailed,
  rollbackSent,
  type StageEvent,
  stageArtifactsSchema,
  startWave,
  supersede,
  type Transition,
  unsentRollbacks,
  WAVE_UPDATED,
  type Wave,
  type WaveEffect,
  waveIdFor,
  waveInputDetailTypes,
} from '../domain/waves';
import { upgradeRequestSchema } from '../domain/workflow';
import { describeIssues } from '../domain/zod-issues';
import type {
  AlarmReader,
  CatalogStore,
  Clock,
  EventPublisher,
  RegistryStore,
  WaveSoak,
  WaveStore,
  WorkflowStore,
} from '../ports';

/** One schema for every event the Promote function takes: Upshift's own, as its rule delivers them. */
export const waveInputSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.enum(waveInputDetailTypes, { error: 'expected an Upshift upgrade event' }),
  source: z.literal(upshiftSource, { error: `expected source "${upshiftSource}"` }),
  time: z.iso.datetime({ offset: true }),
  detail: z.object({
    workflowId: z.string().min(1),
    component: z.string().optional(),
    environment: z.string().optional(),
    version: z.string().optional(),
    outcome: z.union([outcomeSchema, z.string()]).optional(),
    reasons: z.array(reasonSchema).default([]),
    approvalId: z.string().optional(),
    deferUntil: z.string().optional(),
    currentVersion: z.string().optional(),
  }),
});
export type WaveInput = z.infer<typeof waveInputSchema>;

/** What the Promote function takes: Upshift's upgrade events, and CI's Version Published. */
export const promoteInputSchema = z.union([waveInputSchema, published.schema]);
export type PromoteInput = z.infer<typeof promoteInputSchema>;

/** How long the later stages' artifacts a Version Published named are kept. */
const EVENT_ARTIFACTS_DAYS = 90;

/** Routes one input of the Promote function to its use case. */
export async function promote(input: PromoteInput, ports: WavePorts) {
  return input['detail-type'] === published.detailType
    ? keepStageArtifacts(input as published.VersionPublished, ports)
    : onUpgradeEvent(input as WaveInput, ports);
}

/**
 * A Version Published (from CI) that names the artifacts of later stages in
 * `metadata.artifacts` (docs/waves.md): kept by the event's id, which the workflow it starts
 * records, so only the event that started a wave supplies its artifacts. A map that does not
 * parse is reported and kept nowhere; the promotion then says what is missing.
 */
export async function keepStageArtifacts(
  event: published.VersionPublished,
  ports: Pick<WavePorts, 'waves'>,
): Promise<{ kept: boolean; problems?: string[] }> {
  const raw = event.detail.metadata?.artifacts;
  if (raw === undefined) return { kept: false };
  const parsed = stageArtifactsSchema.safeParse(raw);
  if (!parsed.success) {
    return { kept: false, problems: describeIssues(parsed.error).map((p) => `metadata.artifacts.${p}`) };
  }
  const expiresAt = Math.floor(Date.parse(event.time) / 1000) + EVENT_ARTIFACTS_DAYS * 86_400;
  await ports.waves.saveEventArtifacts(event.id, parsed.data, expiresAt);
  return { kept: true };
}

export interface WavePorts {
  waves: WaveStore;
  catalog: Pick<CatalogStore, 'getComponent'>;
  workflows: Pick<WorkflowStore, 'get'>;
  registry: Pick<RegistryStore, 'get'>;
  events: EventPublisher;
  clock: Clock;
}

export interface SoakPorts extends WavePorts {
  alarms: AlarmReader;
}

/** How many times a write that lost a race reads the wave again and re-applies its change. */
const MAX_ATTEMPTS = 8;

/**
 * An Upshift upgrade event reaches the wave of its stage.
 * 1. find the wave from the stage's link (component, environment, version); an upgrade CI started
 *    in an environment its component promotes from starts a new wave (superseding an older one);
 * 2. apply the event to the stage (pure, idempotent: duplicates and late events change nothing);
 * 3. persist with a write conditional on the revision read (re-read and re-apply on a race),
 *    the soak's due item first, so a crash never leaves a soaking stage without one;
 * 4. send what the change asks for: coordinated rollbacks, and `Promotion Wave Updated`.
 */
export async function onUpgradeEvent(
  input: WaveInput,
  ports: WavePorts,
): Promise<{ waveId?: string; changed: boolean }> {
  const d = input.detail;
  if (!d.component || !d.environment || !d.version) return { changed: false };
  // The event's own time: a delivery retried or reordered still dates the stage (and its soak) right.
  const at = new Date(input.time).toISOString();
  const event = stageEventOf(input, at);
  if (!event) return { changed: false };
  let waveId = await ports.waves.findStage(d.component, d.environment, d.version);
  let started = false;
  if (!waveId && (event.kind === 'started' || event.kind === 'ended')) {
    waveId = await startWaveFor(
      { component: d.component, environment: d.environment, version: d.version, workflowId: d.workflowId },
      at,
      ports,
    );
    started = waveId !== undefined;
  }
  if (!waveId) return { changed: false };
  const result = await update(waveId, (wave) => applyStageEvent(wave, d.environment as string, event), ports);
  if (result) await afterChange(result, ports, at);
  else if (started) {
    const wave = await ports.waves.get(waveId);
    if (wave) await announce(wave, ports, at);
  }
  return { waveId, changed: !!result || started };
}

function stageEventOf(input: WaveInput, at: string): StageEvent | undefined {
  const d = input.detail;
  switch (input['detail-type']) {
    case 'Upgrade Started':
      return {
        kind: 'started',
        workflowId: d.workflowId,
        at,
        ...(d.currentVersion ? { fromVersion: d.currentVersion } : {}),
      };
    case 'Approval Requested':
      return {
        kind: 'note',
        workflowId: d.workflowId,
        at,
        note: `waiting for approval ${d.approvalId ?? ''}`.trim(),
      };
    case 'Upgrade Deferred':
      if (!d.outcome) {
        return {
          kind: 'note',
          workflowId: d.workflowId,
          at,
          note: `deferred${d.deferUntil ? ` until ${d.deferUntil}` : ''}: ${d.reasons.map((r) => r.message).join('; ')}`,
        };
      }
      return { kind: 'ended', workflowId: d.workflowId, at, outcome: d.outcome, reasons: d.reasons };
    default:
      return d.outcome
        ? { kind: 'ended', workflowId: d.workflowId, at, outcome: d.outcome, reasons: d.reasons }
        : undefined;
  }
}

/**
 * A new wave, when CI (not a promotion, not a rollback) upgraded a component in an environment it
 * promotes from. A version not newer than the component's newest wave starts none, unless that
 * wave has ended (a version published again after its wave halted). The newer wave supersedes the
 * older one; both are found through the component's head item, moved conditionally.
 */
async function startWaveFor(
  stage: { component: string; environment: string; version: string; workflowId: string },
  at: string,
  ports: WavePorts,
): Promise<string | undefined> {
  const component = await ports.catalog.getComponent(stage.component);
  const policy = component?.promotion;
  if (!component || !policy) return undefined;
  const order = promotionOrder(policy, Object.keys(component.environments));
  const index = order.indexOf(stage.environment);
  if (order.length < 2 || index < 0 || index === order.length - 1) return undefined;
  const record = await ports.workflows.get(stage.workflowId);
  const request = upgradeRequestSchema.safeParse(record?.evidence.request);
  if (!request.success || request.data.mode !== 'upgrade' || request.data.source === PROMOTION_SOURCE) {
    return undefined;
  }
  const head = await ports.waves.head(stage.component);
  if (head && head.waveId !== waveIdFor(stage.workflowId)) {
    const order = compareVersions(stage.version, head.version);
    if (order < 0) return undefined;
    if (order === 0 && (await ports.waves.get(head.waveId))?.status === 'ACTIVE') return undefined;
  }
  const wave = startWave({
    waveId: waveIdFor(stage.workflowId),
    component: stage.component,
    version: stage.version,
    ...(request.data.commit ? { release: request.data.commit } : {}),
    environment: stage.environment,
    order,
    policy,
    workflowId: stage.workflowId,
    ...(request.data.currentVersion ? { fromVersion: request.data.currentVersion } : {}),
    at,
  });
  await ports.waves.create(wave);
  await ports.waves.linkStage(stage.component, stage.environment, stage.version, wave.waveId);
  if (wave.release) await ports.waves.linkRelease(wave.release, stage.component, wave.waveId);
  if (head?.waveId !== wave.waveId) {
    await ports.waves.setHead(stage.component, { waveId: wave.waveId, version: wave.version }, head?.waveId);
    if (head) {
      const older = await update(head.waveId, (w) => supersede(w, wave, at), ports);
      if (older) await afterChange(older, ports, at);
    }
  }
  return wave.waveId;
}

/**
 * Reads the wave, applies `change`, and writes it if it changed, conditional on the revision read;
 * on a lost race, reads again. Soak and recheck items are registered before the write. Returns the
 * transition written, or undefined when nothing changed (or there is no such wave).
 */
async function update(
  waveId: string,
  change: (wave: Wave) => Transition,
  ports: Pick<WavePorts, 'waves'>,
): Promise<Transition | undefined> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const wave = await ports.waves.get(waveId);
    if (!wave) return undefined;
    const t = change(wave);
    if (!t.changed) return t.effects.length ? t : undefined;
    for (const effect of t.effects) {
      if (effect.type === 'soak' || effect.type === 'recheck') {
        await ports.waves.scheduleSoak({
          waveId,
          environment: effect.environment,
          component: wave.component,
          until: effect.type === 'soak' ? effect.until : effect.at,
        });
      }
    }
    if (await ports.waves.save(t.wave)) return { ...t, wave: { ...t.wave, rev: t.wave.rev + 1 } };
  }
  throw new Error(`wave ${waveId}: ${MAX_ATTEMPTS} writes lost their race in a row`);
}

/** What a written change asks for: rollbacks decided and not yet sent, then the announcement. */
async function afterChange(t: Transition, ports: WavePorts, at: string): Promise<Wave> {
  let wave = t.wave;
  for (const stage of unsentRollbacks(wave)) {
    await ports.events.publish([
      {
        source: PROMOTION_SOURCE,
        detailType: rollbackRequested.detailType,
        time: at,
        detail: rollbackRequested.detail.parse({
          component: wave.component,
          environment: stage.environment,
          ...(stage.rollback?.toVersion ? { toVersion: stage.rollback.toVersion } : {}),
          reason: (stage.rollback?.reason ?? 'coordinated rollback').slice(0, limits.reasonChars),
          requestedBy: PROMOTION_SOURCE,
          metadata: { wave: wave.waveId },
        }),
      },
    ]);
    const sent = await update(wave.waveId, (w) => rollbackSent(w, stage.environment, at), ports);
    if (sent) wave = sent.wave;
  }
  const nextCheckAt = t.effects.find(
    (e): e is Extract<WaveEffect, { type: 'soak' | 'recheck' }> => e.type === 'soak' || e.type === 'recheck',
  );
  await announce(
    wave,
    ports,
    at,
    nextCheckAt ? (nextCheckAt.type === 'soak' ? nextCheckAt.until : nextCheckAt.at) : undefined,
  );
  return wave;
}

/** `Promotion Wave Updated`: the wave's state, and when the reconciler looks at it next. */
async function announce(wave: Wave, ports: Pick<WavePorts, 'events'>, at: string, nextCheckAt?: string) {
  await ports.events.publish([
    {
      source: upshiftSource,
      detailType: WAVE_UPDATED,
      time: at,
      detail: {
        schemaVersion: '1',
        waveId: wave.waveId,
        component: wave.component,
        version: wave.version,
        status: wave.status,
        stages: wave.stages.map((s) => ({ environment: s.environment, status: s.status })),
        ...(wave.halted
          ? { halted: { environment: wave.halted.environment, reasons: wave.halted.reasons } }
          : {}),
        ...(wave.supersededBy ? { supersededBy: wave.supersededBy.version } : {}),
        ...(nextCheckAt ? { nextCheckAt } : {}),
      },
    },
  ]);
}

/**
 * The reconciler's part: a soak (or a recheck of a stage held by `after`) is due.
 * 1. read the wave, the component's alarms in that environment (DescribeAlarms), and the waves
 *    of the same release it comes after;
 * 2. decide (pure): halt on an alarm in ALARM, hold for `after`, or promote;
 * 3. persist (conditional on the revision);
 * 4. publish the next stage's Version Published (source upshift.promotion, the wave's id in its
 *    metadata) after linking the stage to the wave; send coordinated rollbacks; announce;
 * 5. take the soak off the due list, unless it was moved to a later recheck.
 * Every step can run again: a stage left PUBLISHED is published again, which Intake's dedupe
 * turns into a DUPLICATE the wave ignores.
 */
export async function finishSoak(soak: WaveSoak, ports: SoakPorts): Promise<boolean> {
  const at = ports.clock.now().toISOString();
  const wave = await ports.waves.get(soak.waveId);
  if (!wave) {
    await ports.waves.closeSoak(soak.waveId, soak.environment, at);
    return false;
  }
  const component = await ports.catalog.getComponent(wave.component);
  const names = (component?.alarms ?? []).map((a) => alarmName(wave.component, soak.environment, a.id));
  const alarms = names.length ? await ports.alarms.describe(names) : [];
  const afterWaves: Record<string, Wave | undefined> = {};
  for (const other of wave.after) {
    const id = wave.release ? await ports.waves.releaseWave(wave.release, other) : undefined;
    afterWaves[other] = id ? await ports.waves.get(id) : undefined;
  }
  const t = await update(soak.waveId, (w) => endSoak(w, soak.environment, { at, alarms, afterWaves }), ports);
  if (!t) {
    const stage = wave.stages.find((s) => s.environment === soak.environment);
    // Not yet due (a clock behind the item's): leave it for a later tick.
    if (stage?.status === 'SOAKING' && stage.soakUntil && at < stage.soakUntil) return false;
    await ports.waves.closeSoak(soak.waveId, soak.environment, at);
    return false;
  }
  let done = t;
  for (const effect of t.effects) {
    if (effect.type !== 'publish') continue;
    const refused = await publishStage(t.wave, effect.environment, ports, at);
    if (refused)
      done =
        (await update(soak.waveId, (w) => publishFailed(w, effect.environment, refused, at), ports)) ?? done;
  }
  await afterChange(done, ports, at);
  if (!t.effects.some((e) => e.type === 'recheck')) {
    await ports.waves.closeSoak(soak.waveId, soak.environment, at);
  }
  return true;
}

/**
 * Publishes the wave's version to `environment`: the artifact that serves in the stage before it
 * (the registry's current entry, so an ECS stage passes on its task definition revision), with
 * the first stage's labels, commit and publisher, so that the environment's policy judges the same
 * change (and separation of duties still knows who published it).
 */
async function publishStage(
  wave: Wave,
  environment: string,
  ports: WavePorts,
  at: string,
): Promise<Reason | undefined> {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const previous = wave.stages[index - 1];
  if (!previous) return undefined;
  const serving = await ports.registry.get(wave.component, previous.environment);
  const first = wave.stages.find((s) => s.workflowId);
  const record = first?.workflowId ? await ports.workflows.get(first.workflowId) : undefined;
  const request = upgradeRequestSchema.safeParse(record?.evidence.request);
  const component = await ports.catalog.getComponent(wave.component);
  if (!component) {
    return { code: 'PROMOTION_NO_COMPONENT', message: `${wave.component} is no longer in the catalog` };
  }
  const named = record?.eventId
    ? (await ports.waves.eventArtifacts(record.eventId))?.[environment]
    : undefined;
  const choice = promotedArtifact({
    component: wave.component,
    environment,
    from: previous.environment,
    target: targetFor(component, environment),
    named,
    serving:
      serving?.current.version === wave.version
        ? serving.current.artifact
        : request.success
          ? request.data.artifact
          : undefined,
  });
  if ('refused' in choice) return choice.refused;
  const artifact = choice.artifact;
  const parsed = published.detail.safeParse({
    component: wave.component,
    version: wave.version,
    environment,
    artifact,
    labels: request.success ? request.data.labels : [],
    ...(request.success && request.data.commit ? { commit: request.data.commit } : {}),
    ...(request.success && request.data.publishedBy ? { publishedBy: request.data.publishedBy } : {}),
    metadata: { wave: wave.waveId, promotedFrom: previous.environment },
  });
  if (!parsed.success) {
    return {
      code: 'PROMOTION_UNPUBLISHABLE',
      message: `${wave.component} ${wave.version} cannot be published to ${environment}: ${describeIssues(parsed.error).join('; ')}`,
    };
  }
  await ports.waves.linkStage(wave.component, environment, wave.version, wave.waveId);
  await ports.events.publish([
    { source: PROMOTION_SOURCE, detailType: published.detailType, time: at, detail: parsed.data },
  ]);
  return undefined;
}

/** The waves for `upshift waves list` and the console, newest first. */
export function listWaves(ports: Pick<WavePorts, 'waves'>, limit = 50): Promise<Wave[]> {
  return ports.waves.list(limit);
}
