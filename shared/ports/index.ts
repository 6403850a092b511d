/**
 * Ports: what the use cases need from the outside world. AWS adapters live in shared/aws, local
 * stand-ins in local/. Use cases take these as arguments; only handler.ts files wire them.
 */
import type { Catalog, Component, Probe, Target } from '../domain/catalog';
import type { Platform } from '../domain/deploy-configs';
import type { Artifact } from '../domain/events/artifact';
import type { Reason } from '../domain/events/upshift-events';
import type { Policy } from '../domain/policy';
import type { ProbeSample } from '../domain/verification';
import type { StageArtifacts, Wave } from '../domain/waves';
import type { HistoryEntry, RegistryEntry, WorkflowRecord } from '../domain/workflow';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A new unique id with the prefix, sortable by creation time. */
  next(prefix: string): string;
}

export interface CatalogStore {
  getComponent(name: string): Promise<Component | undefined>;
  findComponentByRepository(repository: string): Promise<string | undefined>;
  /** Writes the catalog's components (policies go through the PolicyStore, with history). */
  putComponents(catalog: Catalog, by: string, at: string): Promise<void>;
}

export interface StoredPolicy {
  environment: string;
  version: number;
  policy: Policy;
  updatedBy: string;
  updatedAt: string;
}

export interface PolicyChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface PolicyVersion extends StoredPolicy {
  changes: PolicyChange[];
  comment?: string;
}

/** Policies per environment, with a version history (who, when, what changed). */
export interface PolicyStore {
  get(environment: string): Promise<StoredPolicy | undefined>;
  list(): Promise<StoredPolicy[]>;
  /**
   * Writes a new version when the policy differs from the current one (else returns the current).
   * With `expectedVersion`, fails with PolicyConflict if someone else wrote in between.
   */
  put(
    environment: string,
    policy: Policy,
    by: string,
    at: string,
    options?: { expectedVersion?: number; comment?: string },
  ): Promise<StoredPolicy>;
  history(environment: string, limit: number): Promise<PolicyVersion[]>;
}

/** The catalog's policy for an environment as the last deploy that seeded it had it (decision 0026). */
export interface DeployedCatalogPolicy {
  environment: string;
  policy: Policy;
  /** Counts its writes (two per deploy that changes it); each is conditional on the one read before. */
  revision: number;
  deployedAt: string;
  /**
   * Recorded before the deploy wrote the policy's version, cleared after: a deploy that died in
   * between left it, so the next one writes its policy whatever this item says.
   */
  pending?: boolean;
}

/**
 * What each deploy seeded of the catalog's policies, apart from the live policy (which a person
 * may have changed since): a deploy writes a policy version only when the catalog's own policy
 * changed since the previous deploy.
 */
export interface DeployedPolicyStore {
  get(environment: string): Promise<DeployedCatalogPolicy | undefined>;
  /**
   * Records the catalog's policy as deployed; with `expectedRevision` only if the stored one is
   * still that revision (absent: only if none is stored). Throws DeployedPolicyChanged otherwise.
   * `pending`: the deploy has yet to write the policy's version (DeployedCatalogPolicy.pending).
   */
  put(
    environment: string,
    policy: Policy,
    at: string,
    expectedRevision?: number,
    options?: { pending?: boolean },
  ): Promise<DeployedCatalogPolicy>;
  /**
   * The policy the seeding of earlier Upshift versions wrote as version 1 (author `cdk`), which
   * was the catalog's policy at the first deploy; undefined when version 1 was written otherwise.
   */
  firstSeeded(environment: string): Promise<Policy | undefined>;
}

export interface RegistryStore {
  get(component: string, environment: string): Promise<RegistryEntry | undefined>;
  /**
   * Writes the baseline when the target has no entry yet; leaves an existing entry alone. Returns
   * whether it wrote (false: someone else seeded first, read the entry again).
   */
  seed(entry: RegistryEntry): Promise<boolean>;
  /**
   * The registry entry, with the environment's policy and the lock when asked, in one consistent
   * round trip (decision 0018). Optional: without it, callers read them one by one.
   */
  readTogether?(
    component: string,
    environment: string,
    include: { policy?: boolean; lockKey?: string; component?: boolean },
  ): Promise<TargetFacts>;
  /** The new version is live and healthy: it becomes current and last known good. */
  promote(input: {
    component: string;
    environment: string;
    version: string;
    artifact: Artifact;
    deploymentId?: string;
    at: string;
  }): Promise<RegistryEntry>;
  /**
   * The version serves but is not known good (a revert of it failed): it becomes current, and the
   * last known-good version stays what it was.
   */
  markServing(input: {
    component: string;
    environment: string;
    version: string;
    artifact: Artifact;
    deploymentId?: string;
    at: string;
  }): Promise<RegistryEntry>;
}

export interface Lease {
  key: string;
  owner: string;
  expiresAt: string;
  /** When the owner last took or renewed it with `acquire` (`extend` leaves it). */
  acquiredAt?: string;
  /** Until when upgrades may be queued for this lock: look at the queue only before then. */
  queuedUntil?: string;
}

/** What Decide and Intake read together about one target (RegistryStore.readTogether). */
export interface TargetFacts {
  /** The catalog's component, when asked for. */
  component?: Component;
  registry?: RegistryEntry;
  policy?: StoredPolicy;
  lock?: Lease;
}

export interface LockStore {
  /** Takes or renews the lease; throws LockHeld when another owner holds an unexpired one. */
  acquire(key: string, owner: string, now: Date, leaseSeconds: number): Promise<Lease>;
  /**
   * Extends the lease only if `owner` still holds it unexpired (the same lease, never a retaken
   * one); false when it lapsed or someone else holds it. Optional: without it, callers acquire.
   */
  extend?(key: string, owner: string, now: Date, leaseSeconds: number): Promise<boolean>;
  /** Releases the lease if `owner` holds it; a no-op otherwise. Returns whether it released. */
  release(key: string, owner: string): Promise<boolean>;
  get(key: string): Promise<Lease | undefined>;
  /**
   * Puts (or renews) the owner in the queue of upgrades waiting for the lock, until `expiresAt`,
   * and marks the lock as having a queue until then (`queuedUntil`); returns everyone waiting now
   * whose place has not expired.
   */
  wait(key: string, waiter: LockWaiter, now: Date): Promise<LockWaiter[]>;
  /** The unexpired waiters for the lock. */
  waiting(key: string, now: Date): Promise<LockWaiter[]>;
  /** Leaves the queue (a no-op when not in it). */
  stopWaiting(key: string, owner: string): Promise<void>;
}

/** An upgrade waiting for a lock, with the version it would deploy. */
export interface LockWaiter {
  owner: string;
  version: string;
  since: string;
  expiresAt: string;
}

export interface DedupeStore {
  /** Claims the key for the workflow; returns the existing owner when it is already claimed. */
  claim(key: string, workflowId: string, at: string): Promise<{ claimed: boolean; workflowId: string }>;
  release(key: string, workflowId: string): Promise<void>;
}

export interface WorkflowStore {
  create(record: WorkflowRecord): Promise<void>;
  /** Appends one or more history lines, and sets evidence keys, in one write. */
  append(
    workflowId: string,
    entry: HistoryEntry | readonly HistoryEntry[],
    evidence?: Record<string, unknown>,
  ): Promise<void>;
  /**
   * Sets `evidence[key]` unless a value is there already, in one conditional write; when one is
   * there (a retry), returns it instead. Deploy's intent (decision 0014) without a read first.
   */
  recordOnce?(
    workflowId: string,
    key: string,
    value: Record<string, unknown>,
  ): Promise<{ written: boolean; value: Record<string, unknown> }>;
  /**
   * Ends the record with its outcome, appending `history` lines in the same write. Idempotent: a
   * record already ended with this outcome is left as it is (its first lines and time stand).
   * Returns the record as it is now.
   */
  finish(
    workflowId: string,
    input: {
      outcome: WorkflowRecord['outcome'];
      reasons: Reason[];
      at: string;
      history?: readonly HistoryEntry[];
    },
  ): Promise<WorkflowRecord | undefined>;
  get(workflowId: string): Promise<WorkflowRecord | undefined>;
  list(limit: number): Promise<WorkflowRecord[]>;
  /** Every workflow started in [from, to), oldest first (`upshift metrics` and `export`). */
  listStarted(range: { from?: string; to: string }): Promise<WorkflowRecord[]>;
}

export interface ApprovalRecord {
  approvalId: string;
  workflowId: string;
  component: string;
  environment: string;
  version: string;
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
  /** Distinct approvals needed, groups allowed to approve, whether the publisher may. */
  required: number;
  groups: string[];
  allowPublisher: boolean;
  approvers: { by: string; at: string; comment?: string }[];
  requestedAt: string;
  expiresAt: string;
  publishedBy?: string;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
  evidence: Record<string, unknown>;
}

export interface ApprovalStore {
  /** Stores the approval with its task token; the token is never returned by `get` or `list`. */
  create(record: ApprovalRecord, taskToken: string): Promise<void>;
  get(approvalId: string): Promise<ApprovalRecord | undefined>;
  listPending(limit: number): Promise<ApprovalRecord[]>;
  /**
   * Marks the approval decided, once; returns the token to answer with, or undefined if already
   * decided. A decided approval stays listed by `listUnanswered` until `markAnswered`, so an answer
   * lost between the two is sent again by the reconciler.
   */
  decide(
    approvalId: string,
    input: { status: 'APPROVED' | 'REJECTED' | 'EXPIRED'; by: string; at: string; comment?: string },
  ): Promise<{ taskToken: string } | undefined>;
  /** The execution has been answered: the approval leaves the unanswered listing. */
  markAnswered(approvalId: string, at: string): Promise<void>;
  /** Decided approvals whose execution may not have been answered yet, with their tokens. */
  listUnanswered(limit: number): Promise<{ record: ApprovalRecord; taskToken: string }[]>;
  /** Adds one approver (once per person) while the approval is pending; returns the approvers so far. */
  addApprover(
    approvalId: string,
    input: { by: string; at: string; comment?: string },
  ): Promise<{ added: boolean; approvers: ApprovalRecord['approvers'] }>;
}

export interface DeploymentRequest {
  workflowId: string;
  component: string;
  environment: string;
  platform: Platform;
  target: Target;
  version: string;
  artifact: Artifact;
  currentVersion?: string;
  currentArtifact?: Artifact;
  deploymentConfig: string;
  alarmNames: string[];
  /** A fast revert: skip hooks, all at once. */
  revert?: boolean;
}

export type DeploymentStatus =
  | 'Created'
  | 'Queued'
  | 'InProgress'
  | 'Baking'
  | 'Succeeded'
  | 'Failed'
  | 'Stopped'
  | 'Ready';

export interface DeploymentInfo {
  deploymentId: string;
  status: DeploymentStatus;
  /** Percent of traffic on the new version, where the platform reports it (local simulator). */
  trafficPercent?: number;
  errorCode?: string;
  errorMessage?: string;
  rollbackDeploymentId?: string;
  rollbackMessage?: string;
  creator?: string;
}

/** What identifies the deployment a Deploy attempt may have created. */
export interface FindDeploymentInput {
  workflowId: string;
  component: string;
  environment: string;
  /** A revert or manual rollback (a workflow may hold an upgrade deployment and a revert). */
  revert?: boolean;
  /** The intent's time: the deployment was created after it (narrows the listing). */
  createdAfter?: string;
  /** The environment's target: a target in another account is looked for there (decision 0028). */
  target?: Target;
}

export interface Deployer {
  /**
   * Starts a deployment. `artifact` is what was actually deployed when the deployer had to derive
   * it (an ECR image becomes a task definition revision).
   */
  createDeployment(request: DeploymentRequest): Promise<{ deploymentId: string; artifact?: Artifact }>;
  /**
   * The deployment Upshift created for this workflow in the target's deployment group, if any
   * (CodeDeploy: the deployment's description carries the workflow id). Lets a retried Deploy
   * find what an attempt that timed out created. Optional: without it, a retry whose intent has
   * no recorded id creates again, and CodeDeploy's refusal keeps the lock (decision 0014).
   */
  findDeployment?(
    input: FindDeploymentInput,
  ): Promise<{ deploymentId: string; artifact?: Artifact } | undefined>;
  getDeployment(deploymentId: string): Promise<DeploymentInfo>;
  stopDeployment(deploymentId: string, autoRollback: boolean): Promise<{ status: 'Pending' | 'Succeeded' }>;
}

export interface AlarmState {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  updatedAt: string;
}

export interface AlarmReader {
  describe(names: readonly string[]): Promise<AlarmState[]>;
}

export interface ProbeTarget {
  component: string;
  environment: string;
  target: Target;
  version: string;
  artifact: Artifact;
}

export interface Prober {
  /** Sends each probe request `samples` times to the given version. */
  run(
    target: ProbeTarget,
    requests: readonly { name: string; payload: unknown }[],
    samples: number,
  ): Promise<ProbeSample[]>;
}

/** One verification's requests: both versions, interleaved, as the component's probes say. */
export interface ProbeRun {
  candidate: ProbeTarget;
  /** The version serving now; absent for a first deployment. */
  baseline?: ProbeTarget;
  probes: readonly Probe[];
  /** Rounds of the steady probes (a load probe sends its own burst). */
  samples: number;
  /** Requests in flight at once, both versions together. */
  concurrency: number;
  /** Per request. */
  timeoutMs: number;
  /** HTTP endpoints the catalog names (EC2, Lambda function URLs), else the target's own. */
  endpoints?: { candidateUrl?: string; baselineUrl?: string };
  /** The workflow verifying: a target in another account is probed in a role session named after it. */
  workflowId?: string;
}

/**
 * Probes both versions with their requests interleaved (candidate, baseline, candidate, ...), so
 * drift hits both alike. Throttling and the prober's own network errors come back as samples
 * marked `inconclusive`, never as failures of a version. Throws UnsupportedArtifact when it
 * cannot reach this kind of target.
 */
export interface PairedProber {
  compare(run: ProbeRun): Promise<{ candidate: ProbeSample[]; baseline: ProbeSample[] }>;
}

/** The raw samples of one verification, kept apart from the record (which keeps the table). */
export interface RawEvidence {
  workflowId: string;
  component: string;
  environment: string;
  candidateVersion: string;
  currentVersion?: string;
  at: string;
  candidate: readonly ProbeSample[];
  baseline: readonly ProbeSample[];
}

/** Durable storage of raw evidence: S3 on AWS, the state folder (or memory) locally. */
export interface EvidenceStore {
  /** Stores the evidence and returns its reference (`s3://bucket/key`, a file path, `memory:...`). */
  put(evidence: RawEvidence): Promise<string>;
  get(ref: string): Promise<RawEvidence | undefined>;
}

export interface OutboundEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  time?: string;
}

export interface EventPublisher {
  publish(events: readonly OutboundEvent[]): Promise<void>;
}

export interface TaskCallbacks {
  sendSuccess(taskToken: string, output: unknown): Promise<void>;
  sendFailure(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface DeploymentWait {
  deploymentId: string;
  workflowId: string;
  component: string;
  environment: string;
  mode: 'upgrade' | 'revert' | 'rollback';
  /** ANSWERING: the outcome is decided and stored; the execution may not have been answered yet. */
  status: 'PENDING' | 'ANSWERING' | 'DONE';
  registeredAt: string;
  deadline: string;
  lastPolledAt?: string;
}

/** One page of the items due now, and where the next page starts (absent: no more). */
export interface DuePage<T> {
  items: T[];
  next?: Record<string, unknown>;
}

/** Task tokens of executions waiting for a deployment to end, keyed by deployment id. */
export interface DeploymentWaitStore {
  register(wait: DeploymentWait, taskToken: string): Promise<void>;
  get(deploymentId: string): Promise<DeploymentWait | undefined>;
  /** The waits not closed yet (PENDING, and ANSWERING), soonest due first. */
  listPending(limit: number): Promise<DeploymentWait[]>;
  /**
   * The waits due by `now`, one page: PENDING ones to poll, ANSWERING ones to answer again. The
   * index's sort key is the due time, so only what is due is read.
   */
  listDue(now: string, limit: number, start?: Record<string, unknown>): Promise<DuePage<DeploymentWait>>;
  /** Polled at `at`; due again at `nextAt` (absent: at once). */
  markPolled(deploymentId: string, at: string, nextAt?: string): Promise<void>;
  /** Closes the wait once; returns its token, or undefined if someone else closed it first. */
  complete(deploymentId: string, at: string): Promise<{ taskToken: string } | undefined>;
  /**
   * Decides the wait's answer once (PENDING to ANSWERING, storing it) and returns the token, or
   * undefined if someone else decided first. The wait stays listed until `close`.
   */
  claim(
    deploymentId: string,
    at: string,
    answer: unknown,
  ): Promise<{ taskToken: string; wait?: DeploymentWait } | undefined>;
  /** The stored answer and token of a wait decided but not closed. */
  unanswered(deploymentId: string): Promise<{ taskToken: string; answer: unknown } | undefined>;
  /** Closes a wait whose execution has been answered (idempotent). */
  close(deploymentId: string, at: string): Promise<void>;
}

export interface BakeWatch {
  workflowId: string;
  component: string;
  environment: string;
  alarmNames: string[];
  until: string;
  /** ANSWERING: the result is decided and stored; the execution may not have been answered yet. */
  status: 'PENDING' | 'ANSWERING' | 'DONE';
}

/** Task tokens of executions baking, found by workflow or by any of the watched alarms. */
export interface BakeWatchStore {
  register(watch: BakeWatch, taskToken: string): Promise<void>;
  findByAlarm(alarmName: string): Promise<BakeWatch | undefined>;
  /** The watches not closed yet (PENDING, and ANSWERING), soonest due first. */
  listPending(limit: number): Promise<BakeWatch[]>;
  /** The watches due by `now` (bake time up, or an answer to send again), one page. */
  listDue(now: string, limit: number, start?: Record<string, unknown>): Promise<DuePage<BakeWatch>>;
  complete(workflowId: string, at: string): Promise<{ taskToken: string } | undefined>;
  /** As DeploymentWaitStore.claim, by workflow id. */
  claim(workflowId: string, at: string, answer: unknown): Promise<{ taskToken: string } | undefined>;
  unanswered(workflowId: string): Promise<{ taskToken: string; answer: unknown } | undefined>;
  close(workflowId: string, at: string): Promise<void>;
}

/** A stage's soak (or a recheck of a stage held by `after`): due for the reconciler at `until`. */
export interface WaveSoak {
  waveId: string;
  environment: string;
  component: string;
  until: string;
}

/** Promotion waves (docs/waves.md): every write is a single-item conditional write. */
export interface WaveStore {
  get(waveId: string): Promise<Wave | undefined>;
  /** Writes a new wave; false when one with this id exists (a second delivery). */
  create(wave: Wave): Promise<boolean>;
  /** Writes the wave if it is still at `wave.rev` as read, as `rev + 1`; false when someone else wrote first. */
  save(wave: Wave): Promise<boolean>;
  /** The newest waves first. */
  list(limit: number): Promise<Wave[]>;
  /** Which wave a component's version belongs to in an environment (the stage's link). */
  findStage(component: string, environment: string, version: string): Promise<string | undefined>;
  /**
   * Links the stage to `waveId`. With `seen`, only while the link still names `seen` (or already
   * `waveId`): a new wave taking a stage over from an ended one. False when another wave has it.
   */
  linkStage(
    component: string,
    environment: string,
    version: string,
    waveId: string,
    seen?: string,
  ): Promise<boolean>;
  /** The component's newest wave. */
  head(component: string): Promise<{ waveId: string; version: string } | undefined>;
  /** Moves the head to `head` if it is still `seen` (or absent when `seen` is undefined). */
  setHead(component: string, head: { waveId: string; version: string }, seen?: string): Promise<boolean>;
  /** The wave of `component` in a release, for `after`. */
  releaseWave(release: string, component: string): Promise<string | undefined>;
  linkRelease(release: string, component: string, waveId: string): Promise<void>;
  /** Registers (or moves) the due item of a stage's soak. */
  scheduleSoak(soak: WaveSoak): Promise<void>;
  listDueSoaks(now: string, limit: number, start?: Record<string, unknown>): Promise<DuePage<WaveSoak>>;
  listPendingSoaks(limit: number): Promise<WaveSoak[]>;
  /** Takes the soak off the due list (idempotent); a closed soak expires WAVE_RETENTION_DAYS later. */
  closeSoak(waveId: string, environment: string, at: string): Promise<void>;
  /** An ended wave's stage and release links expire at `expiresAt` (epoch seconds), while they name it. */
  expireLinks(wave: Wave, expiresAt: number): Promise<void>;
  /** The later stages' artifacts a Version Published named (`metadata.artifacts`), by its event id. */
  saveEventArtifacts(eventId: string, artifacts: StageArtifacts, expiresAt: number): Promise<void>;
  eventArtifacts(eventId: string): Promise<StageArtifacts | undefined>;
}
