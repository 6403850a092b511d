import { z } from 'zod';
import { alarmName, targetFor } from '../domain/catalog';
import { InvalidStepInput } from '../domain/errors';
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
  claimRollback,
  endSoak,
  firstStageCompleted,
  isNewerWave,
  PROMOTION_SOURCE,
  promotedArtifact,
  promotionOrder,
  publishFailed,
  publishSent,
  releaseRollback,
  releasesStage,
  rollbackClaimLapses,
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
  type WaveStage,
  waveExpiresAt,
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

/**
 * What the Promote function takes: any event of its two rules (Upshift's upgrade events, and every
 * Version Published on the bus), routed by its detail-type before the event's own schema parses
 * it, so that each problem names its field.
 */
export const promoteInputSchema = z.looseObject({
  'detail-type': z.string({ error: "expected the event's detail-type" }),
});
export type PromoteInput = z.infer<typeof promoteInputSchema>;

/**
 * The part of a Version Published that Promote reads: its id, its time and `metadata.artifacts`.
 * The rest is Intake's to judge (it records a malformed event as INVALID, naming the field).
 */
export const artifactsInputSchema = z.object({
  id: z.string({ error: 'expected the event id' }).min(1, 'expected the event id'),
  time: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time' }),
  detail: z.looseObject({
    metadata: z
      .looseObject({ artifacts: z.unknown().optional() }, { error: 'expected an object' })
      .optional(),
  }),
});
export type ArtifactsInput = z.infer<typeof artifactsInputSchema>;

/** How long the later stages' artifacts a Version Published named are kept. */
const EVENT_ARTIFACTS_DAYS = 90;

/** What Promote did with a Version Published (a malformed one is reported, not thrown: Intake's INVALID). */
export interface KeptArtifacts {
  kept: boolean;
  problems?: string[];
}

/**
 * Routes one input of the Promote function to its use case, by detail-type. A Version Published
 * Promote cannot read is reported (`problems`, each naming its field) and left alone: it is not
 * Promote's failure, and Intake reports the same event as INVALID. An upgrade event of Upshift's
 * own that does not parse is a bug, and fails with InvalidStepInput naming the field.
 */
export async function promote(
  input: PromoteInput,
  ports: WavePorts,
): Promise<KeptArtifacts | { waveId?: string; changed: boolean }> {
  if (input['detail-type'] === published.detailType) {
    const parsed = artifactsInputSchema.safeParse(input);
    if (!parsed.success) return { kept: false, problems: describeIssues(parsed.error) };
    return keepStageArtifacts(parsed.data, ports);
  }
  const parsed = waveInputSchema.safeParse(input);
  if (!parsed.success) throw new InvalidStepInput('Promote', describeIssues(parsed.error));
  return onUpgradeEvent(parsed.data, ports);
}

/**
 * A Version Published (from CI) that names the artifacts of later stages in
 * `metadata.artifacts` (docs/waves.md): kept by the event's id, which the workflow it starts
 * records, so only the event that started a wave supplies its artifacts. A map that does not
 * parse is reported and kept nowhere; the promotion then says what is missing.
 */
export async function keepStageArtifacts(
  event: ArtifactsInput,
  ports: Pick<WavePorts, 'waves'>,
): Promise<KeptArtifacts> {
  const raw = event.detail.metadata?.artifacts;
  if (raw === undefined) return { kept: false };
  const parsed = stageArtifactsSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      kept: false,
      problems: describeIssues(parsed.error).map((p) => `detail.metadata.artifacts.${p}`),
    };
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
 *    in an environment its component promotes from starts a new wave (its Upgrade Started, or a
 *    COMPLETED that arrived first; an upgrade that ended otherwise starts none), also when the
 *    link names an ended wave that did not record this workflow there (the version published
 *    again: the new wave takes the link over);
 * 2. apply the event to the stage (pure, idempotent: duplicates and late events change nothing);
 * 3. persist with a write conditional on the revision read (re-read and re-apply on a race),
 *    the soak's due item first, so a crash never leaves a soaking stage without one;
 * 4. send what the wave asks for: coordinated rollbacks not yet sent (also when this delivery
 *    changed nothing: a retry after a failed PutEvents), and `Promotion Wave Updated`;
 * 5. once the wave's first stage completed, it becomes the component's head and supersedes an
 *    older wave (or is superseded by a newer one that completed first); repeated on every
 *    delivery of that completion, so a crash half-way is repaired by the retry.
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
  const starts = event.kind === 'started' || (event.kind === 'ended' && event.outcome === 'COMPLETED');
  // A link to an ended wave does not capture another workflow: CI publishing the version again
  // (after fixing what halted it) starts a new wave, which takes the link over.
  const linked = waveId && starts ? await ports.waves.get(waveId) : undefined;
  if (starts && (!waveId || (linked && releasesStage(linked, d.environment, d.workflowId)))) {
    const fresh = await startWaveFor(
      { component: d.component, environment: d.environment, version: d.version, workflowId: d.workflowId },
      at,
      ports,
      waveId,
    );
    if (fresh) {
      waveId = fresh;
      started = true;
    }
  }
  if (!waveId) return { changed: false };
  const result = await update(waveId, (wave) => applyStageEvent(wave, d.environment as string, event), ports);
  let wave = result?.wave ?? (await ports.waves.get(waveId));
  if (!wave) return { waveId, changed: false };
  if (result) wave = await afterChange(result, ports, at);
  else if (unsentRollbacks(wave).length)
    wave = await afterChange({ wave, changed: false, effects: [] }, ports, at);
  else if (started) await announce(wave, ports, at);
  if (d.environment === wave.stages[0]?.environment && firstStageCompleted(wave)) {
    await takeHead(wave, ports, at);
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
 * promotes from. A version older than the component's head (its newest wave whose first stage
 * completed) starts none; nor does the head's own version while that wave is ACTIVE (a version
 * published again by CI after its wave ended, HALTED, SUPERSEDED or COMPLETED, starts a new
 * wave). The wave is written first and its stage's link last: a crash in between leaves the link
 * as it was (none, or the ended wave's), so the retry writes them again (the wave's id is the
 * workflow's: the second create finds it written and goes on). `replacing`: the ended wave whose
 * link the new wave takes over, with a write conditional on the link still naming it.
 */
async function startWaveFor(
  stage: { component: string; environment: string; version: string; workflowId: string },
  at: string,
  ports: WavePorts,
  replacing?: string,
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
  if (wave.release) await ports.waves.linkRelease(wave.release, stage.component, wave.waveId);
  const linked = await ports.waves.linkStage(
    stage.component,
    stage.environment,
    stage.version,
    wave.waveId,
    replacing,
  );
  if (!linked) {
    // Another wave took the stage over since it was read: the retry reads the link again.
    throw new Error(
      `wave ${wave.waveId}: the link of ${stage.component} ${stage.version} in ${stage.environment} no longer names ${replacing}`,
    );
  }
  return wave.waveId;
}

/**
 * The wave's first stage completed: it becomes the component's head, conditionally on the head it
 * read. An older wave that held it is superseded first (so a crash before the head moved leaves
 * the head to move on the retry); a newer wave that completed its first stage before this one
 * supersedes this one instead, whatever order the two ran in. A wave that halted meanwhile (its
 * version misbehaved) supersedes nothing. A failed newer version never stops an older good wave:
 * only its first stage's completion moves the head.
 */
async function takeHead(wave: Wave, ports: WavePorts, at: string): Promise<void> {
  if (wave.status !== 'ACTIVE' && wave.status !== 'COMPLETED') return;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const head = await ports.waves.head(wave.component);
    if (head?.waveId === wave.waveId) return;
    if (head && isNewerWave(head, wave)) {
      const mine = await update(wave.waveId, (w) => supersede(w, head, at), ports);
      if (mine) await afterChange(mine, ports, at);
      return;
    }
    if (head) {
      const older = await update(head.waveId, (w) => supersede(w, wave, at), ports);
      if (older) await afterChange(older, ports, at);
    }
    if (
      await ports.waves.setHead(wave.component, { waveId: wave.waveId, version: wave.version }, head?.waveId)
    ) {
      return;
    }
    // Another wave moved the head meanwhile: read it again and compare.
  }
  throw new Error(`wave ${wave.waveId}: the head of ${wave.component} moved ${MAX_ATTEMPTS} times in a row`);
}

/**
 * Reads the wave, applies `change`, and writes it if it changed, conditional on the revision read;
 * on a lost race, reads again. Due items (a soak, a recheck, a rollback to send) are registered
 * before the write, also when the change writes nothing but asks for one (a stage still WAITING
 * moves its recheck). Returns the transition written, or one that changed nothing but has
 * effects; undefined when nothing changed (or there is no such wave).
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
    for (const effect of t.effects) {
      if (effect.type === 'publish') continue;
      await ports.waves.scheduleSoak({
        waveId,
        environment: effect.environment,
        component: wave.component,
        // A rollback's due item is the reconciler's retry, should no sender get it out by then.
        until:
          effect.type === 'soak'
            ? effect.until
            : effect.type === 'recheck'
              ? effect.at
              : rollbackClaimLapses(t.wave.updatedAt),
      });
    }
    if (!t.changed) return t.effects.length ? t : undefined;
    if (await ports.waves.save(t.wave)) return { ...t, wave: { ...t.wave, rev: t.wave.rev + 1 } };
  }
  throw new Error(`wave ${waveId}: ${MAX_ATTEMPTS} writes lost their race in a row`);
}

/**
 * What a change asks for: rollbacks decided and not yet sent, the expiry of an ended wave's
 * links, then the announcement (only when something changed).
 */
async function afterChange(t: Transition, ports: WavePorts, at: string): Promise<Wave> {
  let wave = t.wave;
  let sent = 0;
  if (unsentRollbacks(wave).length) {
    const result = await sendRollbacks(wave, ports, at);
    wave = result.wave;
    sent = result.sent;
  }
  const expiresAt = waveExpiresAt(wave);
  if (t.changed && expiresAt !== undefined) await ports.waves.expireLinks(wave, expiresAt);
  if (!t.changed && !sent) return wave;
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

/**
 * Sends the wave's coordinated rollbacks not yet sent, each once: claimed first with a write
 * conditional on the wave's revision (of two senders, one wins; a claim lapses after
 * ROLLBACK_CLAIM_MINUTES, so a sender that crashed is replaced), then `Rollback Requested` with
 * the version to return to, then marked sent. A failed PutEvents gives the claim back and fails
 * the invocation, whose retry sends it. `pending`: rollbacks another sender holds.
 */
async function sendRollbacks(
  start: Wave,
  ports: WavePorts,
  at: string,
): Promise<{ wave: Wave; sent: number; pending: WaveStage[] }> {
  let wave = start;
  let sent = 0;
  for (const stage of unsentRollbacks(start)) {
    const now = ports.clock.now().toISOString();
    const claim = await update(wave.waveId, (w) => claimRollback(w, stage.environment, now), ports);
    if (!claim) continue;
    const claimed = claim.wave.stages.find((s) => s.environment === stage.environment) ?? stage;
    const target = await rollbackVersion(claim.wave, claimed, ports);
    if ('toVersion' in target) {
      try {
        await ports.events.publish([
          {
            source: PROMOTION_SOURCE,
            detailType: rollbackRequested.detailType,
            time: at,
            detail: rollbackRequested.detail.parse({
              component: wave.component,
              environment: stage.environment,
              toVersion: target.toVersion,
              reason: (claimed.rollback?.reason ?? 'coordinated rollback').slice(0, limits.reasonChars),
              requestedBy: PROMOTION_SOURCE,
              metadata: { wave: wave.waveId },
            }),
          },
        ]);
      } catch (error) {
        await update(wave.waveId, (w) => releaseRollback(w, stage.environment, now), ports).catch(
          () => undefined,
        );
        throw error;
      }
    }
    const done = await update(wave.waveId, (w) => rollbackSent(w, stage.environment, at, target), ports);
    if (done) wave = done.wave;
    if ('toVersion' in target) sent++;
  }
  const latest = (await ports.waves.get(wave.waveId)) ?? wave;
  const pending = unsentRollbacks(latest);
  // Every rollback is out: their due items (the reconciler's retry) are no longer needed.
  if (!pending.length) {
    for (const stage of start.stages.filter((s) => s.rollback)) {
      await ports.waves.closeSoak(wave.waveId, stage.environment, at);
    }
  }
  return { wave: latest, sent, pending };
}

/**
 * The version a coordinated rollback returns to: the one that served before the wave, as the
 * wave recorded it; else, while the wave's version still serves there, the registry's previous
 * one. Always a version, so that a rollback sent twice returns to the same place (Intake skips
 * the second, ALREADY_AT_VERSION) instead of stepping one version further back.
 */
async function rollbackVersion(
  wave: Wave,
  stage: WaveStage,
  ports: Pick<WavePorts, 'registry'>,
): Promise<{ toVersion: string } | { note: string }> {
  if (stage.rollback?.toVersion) return { toVersion: stage.rollback.toVersion };
  const entry = await ports.registry.get(wave.component, stage.environment);
  if (!entry)
    return { note: `not sent: no version of ${wave.component} is recorded in ${stage.environment}` };
  if (entry.current.version !== wave.version) {
    return {
      note: `not sent: ${stage.environment} runs ${entry.current.version}, no longer the wave's ${wave.version}`,
    };
  }
  const before = entry.previous?.version;
  return before && before !== wave.version
    ? { toVersion: before }
    : { note: `not sent: no version before ${wave.version} is recorded in ${stage.environment}` };
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
 * The reconciler's part: a soak (a recheck of a stage held by `after`, or a coordinated rollback
 * to send) is due.
 * 1. coordinated rollbacks still unsent are sent (the item stays due while another sender holds
 *    one, until its claim lapses);
 * 2. read the wave, the component's alarms in that environment (DescribeAlarms), and the waves
 *    of the same release it comes after;
 * 3. decide (pure): halt on an alarm in ALARM, hold for `after` (until its deadline), or promote;
 * 4. persist (conditional on the revision);
 * 5. publish the next stage's Version Published (source upshift.promotion, the wave's id in its
 *    metadata) after linking the stage to the wave, and mark it sent; send coordinated
 *    rollbacks; announce what changed;
 * 6. take the soak off the due list, unless it was moved to a later recheck.
 * Every step can run again: a stage left PUBLISHED and not marked sent is published again (Intake
 * would see the same version in that environment as a DUPLICATE the wave ignores).
 */
export async function finishSoak(soak: WaveSoak, ports: SoakPorts): Promise<boolean> {
  const at = ports.clock.now().toISOString();
  const wave = await ports.waves.get(soak.waveId);
  if (!wave) {
    await ports.waves.closeSoak(soak.waveId, soak.environment, at);
    return false;
  }
  if (unsentRollbacks(wave).length) {
    const { wave: latest, sent, pending } = await sendRollbacks(wave, ports, at);
    if (sent) await announce(latest, ports, at);
    const claimed = pending.map((s) => s.rollback?.claimedAt).filter((c): c is string => !!c);
    if (pending.length) {
      const until = claimed.length ? rollbackClaimLapses(claimed.sort()[0] as string) : at;
      await ports.waves.scheduleSoak({ ...soak, until });
      return sent > 0;
    }
    if (latest.status !== 'ACTIVE') {
      await ports.waves.closeSoak(soak.waveId, soak.environment, at);
      return sent > 0;
    }
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
    const marked = await update(
      soak.waveId,
      (w) =>
        refused ? publishFailed(w, effect.environment, refused, at) : publishSent(w, effect.environment, at),
      ports,
    );
    // A failed publication halts the wave: announce it even when the promotion itself wrote nothing.
    if (marked && refused) done = { ...marked, effects: [...done.effects, ...marked.effects] };
    else if (marked) done = { ...done, wave: marked.wave };
  }
  await afterChange(done, ports, at);
  if (!t.effects.some((e) => e.type === 'recheck')) {
    await ports.waves.closeSoak(soak.waveId, soak.environment, at);
  }
  return t.changed || done !== t;
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
