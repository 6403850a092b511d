import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Catalog, Component } from '../domain/catalog';
import { LockHeld, NotFound, PolicyConflict, TransientDependencyError } from '../domain/errors';
import type { Policy } from '../domain/policy';
import { diffDocuments } from '../domain/policy-diff';
import type { HistoryEntry, RegistryEntry, WorkflowRecord } from '../domain/workflow';
import type {
  ApprovalRecord,
  ApprovalStore,
  BakeWatch,
  BakeWatchStore,
  CatalogStore,
  DedupeStore,
  DeploymentWait,
  DeploymentWaitStore,
  DuePage,
  Lease,
  LockStore,
  LockWaiter,
  PolicyStore,
  PolicyVersion,
  RegistryStore,
  StoredPolicy,
  TargetFacts,
  WorkflowStore,
} from '../ports';
import { awsDependencyError } from './errors';
import { DynamoWaveStore } from './wave-store';

/**
 * The single-table design (docs/data-model.md). Every repository writes single items with
 * conditions, so it runs the same on DynamoDB and on dynalite, which lacks transactions.
 */
export const keys = {
  catalogComponent: (name: string) => ({ pk: 'CATALOG', sk: `COMPONENT#${name}` }),
  catalogRepository: (repository: string) => ({ pk: 'CATALOG', sk: `ECR#${repository}` }),
  policy: (environment: string) => ({ pk: `POLICY#${environment}`, sk: 'CURRENT' }),
  policyVersion: (environment: string, version: number) => ({
    pk: `POLICY#${environment}`,
    sk: `V#${String(version).padStart(6, '0')}`,
  }),
  registry: (component: string, environment: string) => ({
    pk: `TARGET#${component}#${environment}`,
    sk: 'REGISTRY',
  }),
  lock: (key: string) => ({ pk: `LOCK#${key}`, sk: 'LOCK' }),
  lockWaiter: (key: string, owner: string) => ({ pk: `LOCK#${key}`, sk: `WAITER#${owner}` }),
  dedupe: (key: string) => ({ pk: `DEDUPE#${key}`, sk: 'DEDUPE' }),
  workflow: (id: string) => ({ pk: `WORKFLOW#${id}`, sk: 'RECORD' }),
  approval: (id: string) => ({ pk: `APPROVAL#${id}`, sk: 'RECORD' }),
  deploymentWait: (deploymentId: string) => ({ pk: `DEPLOYMENT#${deploymentId}`, sk: 'WAIT' }),
  bakeWatch: (workflowId: string) => ({ pk: `BAKE#${workflowId}`, sk: 'WATCH' }),
  alarmWatch: (alarmName: string) => ({ pk: `ALARM#${alarmName}`, sk: 'WATCH' }),
};

export const GSI1 = 'gsi1';

/** Wraps SDK failures: conditional failures are the caller's business, the rest may be retried. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw error;
    // Access denied or a request beyond DynamoDB's limits is permanent: retrying cannot help.
    throw awsDependencyError(`DynamoDB ${what}`, error);
  }
}

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

export function strip<T extends Record<string, unknown>>(
  item: Record<string, unknown> | undefined,
): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, taskToken: _t, approverIds: _a, ...rest } = item;
  return rest as T;
}

/** Every item a Query matches, page after page (each LastEvaluatedKey is the next ExclusiveStartKey). */
export async function queryAll(
  db: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await call('Query', () =>
      db.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) })),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** One page of the gsi1 listing under `partition`, oldest or newest first. */
export async function queryIndex<T>(
  db: DynamoDBDocumentClient,
  table: string,
  partition: string,
  limit: number,
  oldestFirst: boolean,
): Promise<T[]> {
  const out = await call('Query', () =>
    db.send(
      new QueryCommand({
        TableName: table,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: oldestFirst,
        Limit: limit,
      }),
    ),
  );
  return (out.Items ?? []).map((i) => strip<T & Record<string, unknown>>(i) as T);
}

/**
 * One page of the gsi1 items under `partition` due by `now`: their sort key starts with the time
 * they are due (`<ISO time>#<id>`), so the key condition reads only those (decision 0018).
 */
export async function queryDue<T>(
  db: DynamoDBDocumentClient,
  table: string,
  partition: string,
  now: string,
  limit: number,
  start: Record<string, unknown> | undefined,
): Promise<DuePage<T>> {
  const out = await call('Query', () =>
    db.send(
      new QueryCommand({
        TableName: table,
        IndexName: GSI1,
        // '~' sorts after '#': every item due at `now` itself is included.
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :due',
        ExpressionAttributeValues: { ':pk': partition, ':due': `${now}~` },
        ScanIndexForward: true,
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    ),
  );
  return {
    items: (out.Items ?? []).map((i) => strip<T & Record<string, unknown>>(i) as T),
    ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}),
  };
}

type Key = { pk: string; sk: string };
const itemId = (key: Key) => `${key.pk}\u0000${key.sk}`;

/**
 * Reads up to 100 items in one consistent BatchGetItem (one round trip; each item is still read
 * and billed). Keys DynamoDB leaves unprocessed (throttling) are asked for again.
 */
async function batchGet(
  db: DynamoDBDocumentClient,
  table: string,
  wanted: Key[],
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  let pending: Key[] = wanted;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
    if (attempt >= 6) throw new TransientDependencyError('DynamoDB BatchGetItem left keys unprocessed');
    const out = await call('BatchGetItem', () =>
      db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } })),
    );
    for (const item of out.Responses?.[table] ?? []) found.set(itemId(item as Key), item);
    pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
  }
  return found;
}

/**
 * Writes up to 25 items in one BatchWriteItem (unconditional puts), asking again for what
 * DynamoDB leaves unprocessed.
 */
async function batchPut(db: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]) {
  let pending = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
    if (attempt >= 6) throw new TransientDependencyError('DynamoDB BatchWriteItem left items unprocessed');
    const out = await call('BatchWriteItem', () =>
      db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } })),
    );
    pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
  }
}

const isoOfEpoch = (seconds: number) => new Date(seconds * 1000).toISOString();

/** A lock item as a lease; undefined when nobody holds it (released, or only a queue mark). */
function leaseOf(key: string, item: Record<string, unknown>): Lease | undefined {
  if (typeof item.owner !== 'string') return undefined;
  return {
    key,
    owner: item.owner,
    expiresAt: isoOfEpoch(item.expiresAt as number),
    ...(typeof item.acquiredAt === 'string' ? { acquiredAt: item.acquiredAt } : {}),
    ...(typeof item.queuedUntil === 'number' ? { queuedUntil: isoOfEpoch(item.queuedUntil) } : {}),
  };
}

export class DynamoCatalogStore implements CatalogStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getComponent(name: string): Promise<Component | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.table, Key: keys.catalogComponent(name) })),
    );
    return out.Item?.component as Component | undefined;
  }

  async findComponentByRepository(repository: string): Promise<string | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.table, Key: keys.catalogRepository(repository) })),
    );
    return out.Item?.component as string | undefined;
  }

  /** Every component of the catalog in the table, by name (the CLI's `status` on a deployed stack). */
  async listComponents(): Promise<Record<string, Component>> {
    const all: Record<string, Component> = {};
    const items = await queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
      ExpressionAttributeValues: { ':pk': 'CATALOG', ':c': 'COMPONENT#' },
    });
    for (const item of items) all[String(item.sk).slice('COMPONENT#'.length)] = item.component as Component;
    return all;
  }

  async putComponents(catalog: Catalog, by: string, at: string): Promise<void> {
    for (const [name, component] of Object.entries(catalog.components)) {
      await call('PutItem', () =>
        this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...keys.catalogComponent(name), component, updatedBy: by, updatedAt: at },
          }),
        ),
      );
      for (const repository of component.sources.ecr?.repositories ?? []) {
        await call('PutItem', () =>
          this.db.send(
            new PutCommand({
              TableName: this.table,
              Item: { ...keys.catalogRepository(repository), component: name },
            }),
          ),
        );
      }
    }
  }
}

export class DynamoPolicyStore implements PolicyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(environment: string): Promise<StoredPolicy | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: keys.policy(environment), ConsistentRead: true }),
      ),
    );
    return strip<StoredPolicy & Record<string, unknown>>(out.Item);
  }

  async list(): Promise<StoredPolicy[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      IndexName: GSI1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': 'POLICIES' },
    });
    return items.map((i) => strip<StoredPolicy & Record<string, unknown>>(i) as StoredPolicy);
  }

  async put(
    environment: string,
    policy: Policy,
    by: string,
    at: string,
    options: { expectedVersion?: number; comment?: string } = {},
  ): Promise<StoredPolicy> {
    const current = await this.get(environment);
    if (options.expectedVersion !== undefined && (current?.version ?? 0) !== options.expectedVersion) {
      throw new PolicyConflict(environment, options.expectedVersion, current?.version ?? 0);
    }
    const changes = diffDocuments(current?.policy, policy);
    if (current && changes.length === 0) return current;
    const version = (current?.version ?? 0) + 1;
    const stored: StoredPolicy = { environment, version, policy, updatedBy: by, updatedAt: at };
    try {
      // The version item first: two writers racing for the same version cannot both win.
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.policyVersion(environment, version),
            ...stored,
            changes,
            ...(options.comment ? { comment: options.comment } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.policy(environment), ...stored, gsi1pk: 'POLICIES', gsi1sk: environment },
          ConditionExpression: current ? '#v = :prev' : 'attribute_not_exists(pk)',
          ...(current
            ? {
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':prev': current.version },
              }
            : {}),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new PolicyConflict(environment, current?.version ?? 0, version);
      throw awsDependencyError('DynamoDB PutItem (policy)', error);
    }
    return stored;
  }

  async history(environment: string, limit: number): Promise<PolicyVersion[]> {
    const out = await call('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': keys.policy(environment).pk, ':v': 'V#' },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map((i) => strip<PolicyVersion & Record<string, unknown>>(i) as PolicyVersion);
  }
}

export class DynamoRegistryStore implements RegistryStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(component: string, environment: string): Promise<RegistryEntry | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: keys.registry(component, environment),
          ConsistentRead: true,
        }),
      ),
    );
    return strip<RegistryEntry & Record<string, unknown>>(out.Item);
  }

  async seed(entry: RegistryEntry): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.registry(entry.component, entry.environment), ...entry },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB PutItem (registry seed)', error);
      return false;
    }
  }

  /** The registry entry, the policy and the lock in one consistent BatchGetItem. */
  async readTogether(
    component: string,
    environment: string,
    include: { policy?: boolean; lockKey?: string; component?: boolean },
  ): Promise<TargetFacts> {
    const registryKey = keys.registry(component, environment);
    const policyKey = keys.policy(environment);
    const componentKey = keys.catalogComponent(component);
    const lockKey = include.lockKey === undefined ? undefined : keys.lock(include.lockKey);
    const items = await batchGet(this.db, this.table, [
      registryKey,
      ...(include.policy ? [policyKey] : []),
      ...(lockKey ? [lockKey] : []),
      ...(include.component ? [componentKey] : []),
    ]);
    const catalogItem = include.component ? items.get(itemId(componentKey)) : undefined;
    const registry = items.get(itemId(registryKey));
    const policy = items.get(itemId(policyKey));
    const lock = lockKey && include.lockKey !== undefined ? items.get(itemId(lockKey)) : undefined;
    const lease = lock && include.lockKey !== undefined ? leaseOf(include.lockKey, lock) : undefined;
    return {
      ...(catalogItem?.component ? { component: catalogItem.component as Component } : {}),
      ...(registry
        ? { registry: strip<RegistryEntry & Record<string, unknown>>(registry) as RegistryEntry }
        : {}),
      ...(include.policy && policy
        ? { policy: strip<StoredPolicy & Record<string, unknown>>(policy) as StoredPolicy }
        : {}),
      ...(lease ? { lock: lease } : {}),
    };
  }

  promote(input: Parameters<RegistryStore['promote']>[0]): Promise<RegistryEntry> {
    return this.replaceCurrent(input, true);
  }

  markServing(input: Parameters<RegistryStore['markServing']>[0]): Promise<RegistryEntry> {
    return this.replaceCurrent(input, false);
  }

  /**
   * Makes the version current in one UpdateItem that moves `current` to `previous` on the server,
   * so no read comes first. The condition makes it idempotent: when the version is already current
   * with the same deployment, nothing is written, and a retried Record falls back to the
   * read-and-compare path below, which changes nothing (so `previous` never becomes the version
   * itself).
   */
  private async replaceCurrent(
    input: Parameters<RegistryStore['promote']>[0],
    knownGood: boolean,
  ): Promise<RegistryEntry> {
    const current = {
      version: input.version,
      artifact: input.artifact,
      at: input.at,
      ...(input.deploymentId ? { deploymentId: input.deploymentId } : {}),
    };
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.registry(input.component, input.environment),
          UpdateExpression: `SET #previous = #current, #current = :current, lastUpgradeAt = :at${
            knownGood ? ', lastKnownGood = :current' : ''
          }`,
          ConditionExpression: `attribute_exists(pk) AND NOT (#current.#version = :version AND ${
            input.deploymentId
              ? '#current.#deploymentId = :deploymentId'
              : 'attribute_not_exists(#current.#deploymentId)'
          })`,
          ExpressionAttributeNames: {
            '#previous': 'previous',
            '#current': 'current',
            '#version': 'version',
            '#deploymentId': 'deploymentId',
          },
          ExpressionAttributeValues: {
            ':current': current,
            ':at': input.at,
            ':version': input.version,
            ...(input.deploymentId ? { ':deploymentId': input.deploymentId } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<RegistryEntry & Record<string, unknown>>(out.Attributes) as RegistryEntry;
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB UpdateItem (registry)', error);
    }
    return this.replaceCurrentAfterRead(input, knownGood);
  }

  /**
   * The careful path, after the one-write path found the version already current (a retry) or no
   * entry: read, compare, and write conditionally on the entry read.
   */
  private async replaceCurrentAfterRead(
    input: Parameters<RegistryStore['promote']>[0],
    knownGood: boolean,
  ): Promise<RegistryEntry> {
    const existing = await this.get(input.component, input.environment);
    if (!existing) throw new NotFound(`no registry entry for ${input.component} in ${input.environment}`);
    const current = {
      version: input.version,
      artifact: input.artifact,
      at: input.at,
      ...(input.deploymentId ? { deploymentId: input.deploymentId } : {}),
    };
    const same =
      existing.current.version === input.version && existing.current.deploymentId === input.deploymentId;
    if (same && (!knownGood || existing.lastKnownGood.version === input.version)) return existing;
    const entry: RegistryEntry = {
      ...existing,
      current: same ? existing.current : current,
      previous: same ? existing.previous : existing.current,
      lastKnownGood: knownGood ? (same ? existing.current : current) : existing.lastKnownGood,
      lastUpgradeAt: input.at,
    };
    if (!entry.previous) delete entry.previous;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.registry(input.component, input.environment), ...entry },
          ConditionExpression: '#current.#at = :at AND #current.#version = :version',
          ExpressionAttributeNames: { '#current': 'current', '#at': 'at', '#version': 'version' },
          ExpressionAttributeValues: { ':at': existing.current.at, ':version': existing.current.version },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new TransientDependencyError(
          `registry of ${input.component} in ${input.environment} changed while it was written; read it again`,
          { cause: error },
        );
      }
      throw awsDependencyError('DynamoDB PutItem (registry)', error);
    }
    return entry;
  }
}

export class DynamoLockStore implements LockStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * One UpdateItem, not a PutItem: it keeps the item's `queuedUntil` (the queue mark waiters leave)
   * and returns it, so the holder looks at the queue only when upgrades may be waiting.
   */
  async acquire(key: string, owner: string, now: Date, leaseSeconds: number): Promise<Lease> {
    const nowS = Math.floor(now.getTime() / 1000);
    const expiresAt = nowS + leaseSeconds;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lock(key),
          UpdateExpression: 'SET #owner = :owner, expiresAt = :exp, acquiredAt = :at',
          // Free (never taken, released, or only queued for), expired (TTL deletion lags, so
          // expiry is checked here), or already ours (renewal).
          ConditionExpression: 'attribute_not_exists(#owner) OR expiresAt < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':now': nowS,
            ':owner': owner,
            ':exp': expiresAt,
            ':at': now.toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return leaseOf(key, out.Attributes ?? {}) ?? { key, owner, expiresAt: isoOfEpoch(expiresAt) };
    } catch (error) {
      if (isConditionFailure(error)) {
        const held = await this.get(key);
        throw new LockHeld(held?.owner ?? 'unknown', held?.expiresAt ?? 'unknown');
      }
      throw awsDependencyError(`DynamoDB UpdateItem (lock ${key})`, error);
    }
  }

  async extend(key: string, owner: string, now: Date, leaseSeconds: number): Promise<boolean> {
    const nowS = Math.floor(now.getTime() / 1000);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lock(key),
          UpdateExpression: 'SET expiresAt = :exp',
          ConditionExpression: '#owner = :owner AND expiresAt >= :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': nowS, ':owner': owner, ':exp': nowS + leaseSeconds },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw awsDependencyError(`DynamoDB UpdateItem (lock ${key})`, error);
    }
  }

  /**
   * Removes the owner, keeping the item when a queue mark is on it (an UpdateItem, so the mark
   * survives for the next holder to see). A no-op for anyone but the owner.
   */
  async release(key: string, owner: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lock(key),
          UpdateExpression: 'REMOVE #owner, expiresAt, acquiredAt',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw awsDependencyError(`DynamoDB UpdateItem (lock ${key})`, error);
    }
  }

  async get(key: string): Promise<Lease | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.table, Key: keys.lock(key), ConsistentRead: true })),
    );
    return out.Item ? leaseOf(key, out.Item) : undefined;
  }

  async wait(key: string, waiter: LockWaiter, now: Date): Promise<LockWaiter[]> {
    await call('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.lockWaiter(key, waiter.owner),
            owner: waiter.owner,
            version: waiter.version,
            since: waiter.since,
            // TTL in epoch seconds; the place also expires on read (TTL deletion lags).
            expiresAt: Math.floor(Date.parse(waiter.expiresAt) / 1000),
          },
        }),
      ),
    );
    await this.markQueued(key, Math.floor(Date.parse(waiter.expiresAt) / 1000));
    return this.waiting(key, now);
  }

  /**
   * Leaves a queue mark on the lock item, later only (a condition keeps the latest): the holder
   * that takes the lock before then looks at the queue. Creates the item if there is none.
   */
  private async markQueued(key: string, untilS: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lock(key),
          UpdateExpression: 'SET queuedUntil = :until',
          ConditionExpression: 'attribute_not_exists(queuedUntil) OR queuedUntil < :until',
          ExpressionAttributeValues: { ':until': untilS },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError(`DynamoDB UpdateItem (lock ${key})`, error);
    }
  }

  async waiting(key: string, now: Date): Promise<LockWaiter[]> {
    const out = await call('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
          ExpressionAttributeValues: { ':pk': keys.lock(key).pk, ':w': 'WAITER#' },
          ConsistentRead: true,
        }),
      ),
    );
    const nowS = Math.floor(now.getTime() / 1000);
    return (out.Items ?? [])
      .filter((i) => (i.expiresAt as number) > nowS)
      .map((i) => ({
        owner: i.owner as string,
        version: i.version as string,
        since: i.since as string,
        expiresAt: new Date((i.expiresAt as number) * 1000).toISOString(),
      }));
  }

  async stopWaiting(key: string, owner: string): Promise<void> {
    await call('DeleteItem', () =>
      this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.lockWaiter(key, owner) })),
    );
  }
}

export class DynamoDedupeStore implements DedupeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(
    key: string,
    workflowId: string,
    at: string,
  ): Promise<{ claimed: boolean; workflowId: string }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.dedupe(key), workflowId, at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { claimed: true, workflowId };
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB PutItem (dedupe)', error);
      const out = await call('GetItem', () =>
        this.db.send(new GetCommand({ TableName: this.table, Key: keys.dedupe(key), ConsistentRead: true })),
      );
      return { claimed: false, workflowId: (out.Item?.workflowId as string) ?? 'unknown' };
    }
  }

  async release(key: string, workflowId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.dedupe(key),
          ConditionExpression: 'workflowId = :wf',
          ExpressionAttributeValues: { ':wf': workflowId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB DeleteItem (dedupe)', error);
    }
  }
}

export class DynamoWorkflowStore implements WorkflowStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(record: WorkflowRecord): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.workflow(record.workflowId),
            ...record,
            gsi1pk: 'WORKFLOWS',
            gsi1sk: `${record.startedAt}#${record.workflowId}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // A retried Intake writes the same record again; the first write stands.
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB PutItem (workflow)', error);
    }
  }

  async append(
    workflowId: string,
    entry: HistoryEntry | readonly HistoryEntry[],
    evidence?: Record<string, unknown>,
  ): Promise<void> {
    const names: Record<string, string> = { '#history': 'history' };
    const values: Record<string, unknown> = { ':entry': Array.isArray(entry) ? [...entry] : [entry] };
    const sets = ['#history = list_append(#history, :entry)'];
    Object.entries(evidence ?? {}).forEach(([k, v], i) => {
      names[`#e${i}`] = k;
      values[`:e${i}`] = v;
      sets.push(`evidence.#e${i} = :e${i}`);
    });
    await call('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.workflow(workflowId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    ).catch((error) => {
      if (isConditionFailure(error)) throw new NotFound(`workflow ${workflowId} does not exist`);
      throw error;
    });
  }

  async recordOnce(
    workflowId: string,
    key: string,
    value: Record<string, unknown>,
  ): Promise<{ written: boolean; value: Record<string, unknown> }> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.workflow(workflowId),
          UpdateExpression: 'SET evidence.#k = :v',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(evidence.#k)',
          ExpressionAttributeNames: { '#k': key },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
      return { written: true, value };
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB UpdateItem (workflow)', error);
    }
    // A retry: an earlier attempt recorded one (read it), or there is no record at all.
    const record = await this.get(workflowId);
    const stored = record?.evidence[key] as Record<string, unknown> | undefined;
    if (!stored) throw new NotFound(`workflow ${workflowId} does not exist`);
    return { written: false, value: stored };
  }

  /**
   * Ends the record and appends its last lines in one UpdateItem. A record that already has this
   * outcome is left alone (a retried Record), so its lines are appended once; then it is read.
   */
  async finish(
    workflowId: string,
    input: Parameters<WorkflowStore['finish']>[1],
  ): Promise<WorkflowRecord | undefined> {
    const lines = input.history ?? [];
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.workflow(workflowId),
          UpdateExpression: `SET #status = :ended, outcome = :outcome, reasons = :reasons, endedAt = :at${
            lines.length ? ', #history = list_append(#history, :lines)' : ''
          }`,
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(outcome) OR outcome <> :outcome)',
          ExpressionAttributeNames: {
            '#status': 'status',
            ...(lines.length ? { '#history': 'history' } : {}),
          },
          ExpressionAttributeValues: {
            ':ended': 'ENDED',
            ':outcome': input.outcome,
            ':reasons': input.reasons,
            ':at': input.at,
            ...(lines.length ? { ':lines': [...lines] } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<WorkflowRecord & Record<string, unknown>>(out.Attributes);
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB UpdateItem (workflow)', error);
    }
    const record = await this.get(workflowId);
    if (!record) throw new NotFound(`workflow ${workflowId} does not exist`);
    return record;
  }

  async get(workflowId: string): Promise<WorkflowRecord | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: keys.workflow(workflowId), ConsistentRead: true }),
      ),
    );
    return strip<WorkflowRecord & Record<string, unknown>>(out.Item);
  }

  async list(limit: number): Promise<WorkflowRecord[]> {
    return queryIndex<WorkflowRecord>(this.db, this.table, 'WORKFLOWS', limit, false);
  }

  /**
   * Every workflow started in [from, to), oldest first, every page: the index's sort key starts
   * with the start time (`<startedAt>#<id>`), so the key condition reads only those.
   */
  async listStarted(range: { from?: string; to: string }): Promise<WorkflowRecord[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      IndexName: GSI1,
      KeyConditionExpression: range.from
        ? 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to'
        : 'gsi1pk = :pk AND gsi1sk < :to',
      // '#' sorts before every character of an id: `<to>#` ends before the first id at `to`.
      ExpressionAttributeValues: {
        ':pk': 'WORKFLOWS',
        ':to': `${range.to}#`,
        ...(range.from ? { ':from': range.from } : {}),
      },
      ScanIndexForward: true,
    });
    return items.map((i) => strip<WorkflowRecord & Record<string, unknown>>(i) as WorkflowRecord);
  }
}

export class DynamoApprovalStore implements ApprovalStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(record: ApprovalRecord, taskToken: string): Promise<void> {
    await call('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.approval(record.approvalId),
            ...record,
            // A string set cannot be empty; a placeholder keeps `contains` and `ADD` simple.
            approverIds: new Set(['-']),
            taskToken,
            gsi1pk: 'APPROVALS#PENDING',
            gsi1sk: `${record.requestedAt}#${record.approvalId}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: keys.approval(approvalId), ConsistentRead: true }),
      ),
    );
    return strip<ApprovalRecord & Record<string, unknown>>(out.Item);
  }

  async listPending(limit: number): Promise<ApprovalRecord[]> {
    return queryIndex<ApprovalRecord>(this.db, this.table, 'APPROVALS#PENDING', limit, true);
  }

  async addApprover(
    approvalId: string,
    input: { by: string; at: string; comment?: string },
  ): Promise<{ added: boolean; approvers: ApprovalRecord['approvers'] }> {
    const entry = { by: input.by, at: input.at, ...(input.comment ? { comment: input.comment } : {}) };
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.approval(approvalId),
          // One vote per person: approverIds is a string set, checked before appending.
          UpdateExpression: 'SET approvers = list_append(approvers, :entry) ADD approverIds :ids',
          ConditionExpression: '#status = :pending AND NOT contains(approverIds, :by)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':entry': [entry],
            ':ids': new Set([input.by]),
            ':by': input.by,
            ':pending': 'PENDING',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { added: true, approvers: (out.Attributes?.approvers as ApprovalRecord['approvers']) ?? [] };
    } catch (error) {
      if (!isConditionFailure(error)) throw awsDependencyError('DynamoDB UpdateItem (approver)', error);
      const current = await this.get(approvalId);
      return { added: false, approvers: current?.approvers ?? [] };
    }
  }

  async decide(
    approvalId: string,
    input: { status: 'APPROVED' | 'REJECTED' | 'EXPIRED'; by: string; at: string; comment?: string },
  ): Promise<{ taskToken: string } | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.approval(approvalId),
          // Listed as unanswered until the execution has its answer (markAnswered).
          UpdateExpression:
            'SET #status = :status, decidedBy = :by, decidedAt = :at, #comment = :comment, gsi1pk = :answering',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
          ExpressionAttributeValues: {
            ':status': input.status,
            ':by': input.by,
            ':at': input.at,
            ':comment': input.comment ?? '',
            ':pending': 'PENDING',
            ':answering': 'APPROVALS#ANSWERING',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { taskToken: out.Attributes?.taskToken as string };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw awsDependencyError('DynamoDB UpdateItem (approval)', error);
    }
  }

  async markAnswered(approvalId: string, at: string): Promise<void> {
    await call('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.approval(approvalId),
          UpdateExpression: 'SET answeredAt = :at REMOVE gsi1pk, gsi1sk',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    ).catch((error) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  async listUnanswered(limit: number): Promise<{ record: ApprovalRecord; taskToken: string }[]> {
    const out = await call('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: GSI1,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': 'APPROVALS#ANSWERING' },
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map((i) => ({
      record: strip<ApprovalRecord & Record<string, unknown>>(i) as ApprovalRecord,
      taskToken: i.taskToken as string,
    }));
  }
}

/** Closes a PENDING token item once and returns its token; undefined when already closed. */
async function closeOnce(
  db: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
  at: string,
): Promise<{ taskToken: string } | undefined> {
  try {
    const out = await db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET #status = :done, closedAt = :at REMOVE gsi1pk, gsi1sk',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':done': 'DONE', ':pending': 'PENDING', ':at': at },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { taskToken: out.Attributes?.taskToken as string };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw awsDependencyError(`DynamoDB UpdateItem (${key.pk})`, error);
  }
}

/**
 * Decides a PENDING token item's answer once (to ANSWERING, storing the answer) and returns its
 * token and the item; undefined when someone else decided first, or when there is no such item.
 * The item stays in the pending listing, due at once (the claim's time), so the
 * reconciler answers again if the answer is lost before `closeAnswered`.
 */
async function claimOnce<T>(
  db: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
  id: string,
  at: string,
  answer: unknown,
): Promise<{ taskToken: string; item: T } | undefined> {
  try {
    const out = await db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET #status = :answering, claimedAt = :at, answer = :answer, gsi1sk = :due',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':answering': 'ANSWERING',
          ':pending': 'PENDING',
          ':at': at,
          ':answer': answer ?? null,
          ':due': `${at}#${id}`,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return {
      taskToken: out.Attributes?.taskToken as string,
      item: strip<T & Record<string, unknown>>(out.Attributes) as T,
    };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw awsDependencyError(`DynamoDB UpdateItem (${key.pk})`, error);
  }
}

/** The answer decided for a token item not closed yet. */
async function storedAnswer(
  db: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
): Promise<{ taskToken: string; answer: unknown } | undefined> {
  const out = await call('GetItem', () =>
    db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true })),
  );
  if (out.Item?.status !== 'ANSWERING') return undefined;
  return { taskToken: out.Item.taskToken as string, answer: out.Item.answer };
}

/** Closes a token item whose execution has been answered; closing twice changes nothing. */
async function closeAnswered(
  db: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
  at: string,
): Promise<void> {
  await call('UpdateItem', () =>
    db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET #status = :done, closedAt = :at REMOVE gsi1pk, gsi1sk, answer',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':done': 'DONE', ':at': at },
      }),
    ),
  ).catch((error) => {
    if (!isConditionFailure(error)) throw error;
  });
}

export class DynamoDeploymentWaitStore implements DeploymentWaitStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async register(wait: DeploymentWait, taskToken: string): Promise<void> {
    await call('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.deploymentWait(wait.deploymentId),
            ...wait,
            taskToken,
            gsi1pk: 'WAITS#PENDING',
            // Due for its first poll at once; each poll moves it on (markPolled).
            gsi1sk: `${wait.registeredAt}#${wait.deploymentId}`,
          },
        }),
      ),
    );
  }

  async get(deploymentId: string): Promise<DeploymentWait | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: keys.deploymentWait(deploymentId),
          ConsistentRead: true,
        }),
      ),
    );
    return strip<DeploymentWait & Record<string, unknown>>(out.Item);
  }

  listPending(limit: number): Promise<DeploymentWait[]> {
    return queryIndex<DeploymentWait>(this.db, this.table, 'WAITS#PENDING', limit, true);
  }

  listDue(now: string, limit: number, start?: Record<string, unknown>): Promise<DuePage<DeploymentWait>> {
    return queryDue<DeploymentWait>(this.db, this.table, 'WAITS#PENDING', now, limit, start);
  }

  async markPolled(deploymentId: string, at: string, nextAt?: string): Promise<void> {
    await call('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.deploymentWait(deploymentId),
          // Only while pending: a wait decided meanwhile keeps its own due time.
          UpdateExpression: 'SET lastPolledAt = :at, gsi1sk = :due',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':at': at,
            ':due': `${nextAt ?? at}#${deploymentId}`,
            ':pending': 'PENDING',
          },
        }),
      ),
    ).catch((error) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  complete(deploymentId: string, at: string): Promise<{ taskToken: string } | undefined> {
    return closeOnce(this.db, this.table, keys.deploymentWait(deploymentId), at);
  }

  async claim(
    deploymentId: string,
    at: string,
    answer: unknown,
  ): Promise<{ taskToken: string; wait: DeploymentWait } | undefined> {
    const won = await claimOnce<DeploymentWait>(
      this.db,
      this.table,
      keys.deploymentWait(deploymentId),
      deploymentId,
      at,
      answer,
    );
    return won && { taskToken: won.taskToken, wait: won.item };
  }

  unanswered(deploymentId: string): Promise<{ taskToken: string; answer: unknown } | undefined> {
    return storedAnswer(this.db, this.table, keys.deploymentWait(deploymentId));
  }

  close(deploymentId: string, at: string): Promise<void> {
    return closeAnswered(this.db, this.table, keys.deploymentWait(deploymentId), at);
  }
}

export class DynamoBakeWatchStore implements BakeWatchStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * The watch (due when the bake ends) and its alarm links in one BatchWriteItem: a component has
   * at most 10 alarms, so the 11 puts fit the batch's 25. One upgrade per component and
   * environment at a time, so each alarm has at most one watcher.
   */
  async register(watch: BakeWatch, taskToken: string): Promise<void> {
    await batchPut(this.db, this.table, [
      {
        ...keys.bakeWatch(watch.workflowId),
        ...watch,
        taskToken,
        gsi1pk: 'BAKES#PENDING',
        gsi1sk: `${watch.until}#${watch.workflowId}`,
      },
      ...watch.alarmNames.map((name) => ({ ...keys.alarmWatch(name), workflowId: watch.workflowId })),
    ]);
  }

  async findByAlarm(alarmName: string): Promise<BakeWatch | undefined> {
    const link = await call('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: keys.alarmWatch(alarmName), ConsistentRead: true }),
      ),
    );
    if (!link.Item) return undefined;
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: keys.bakeWatch(link.Item?.workflowId as string),
          ConsistentRead: true,
        }),
      ),
    );
    const watch = strip<BakeWatch & Record<string, unknown>>(out.Item);
    return watch?.status === 'PENDING' ? watch : undefined;
  }

  listPending(limit: number): Promise<BakeWatch[]> {
    return queryIndex<BakeWatch>(this.db, this.table, 'BAKES#PENDING', limit, true);
  }

  listDue(now: string, limit: number, start?: Record<string, unknown>): Promise<DuePage<BakeWatch>> {
    return queryDue<BakeWatch>(this.db, this.table, 'BAKES#PENDING', now, limit, start);
  }

  complete(workflowId: string, at: string): Promise<{ taskToken: string } | undefined> {
    return closeOnce(this.db, this.table, keys.bakeWatch(workflowId), at);
  }

  async claim(workflowId: string, at: string, answer: unknown): Promise<{ taskToken: string } | undefined> {
    const won = await claimOnce<BakeWatch>(
      this.db,
      this.table,
      keys.bakeWatch(workflowId),
      workflowId,
      at,
      answer,
    );
    return won && { taskToken: won.taskToken };
  }

  unanswered(workflowId: string): Promise<{ taskToken: string; answer: unknown } | undefined> {
    return storedAnswer(this.db, this.table, keys.bakeWatch(workflowId));
  }

  close(workflowId: string, at: string): Promise<void> {
    return closeAnswered(this.db, this.table, keys.bakeWatch(workflowId), at);
  }
}

/** All repositories over one table. */
export function dynamoStores(db: DynamoDBDocumentClient, table: string) {
  return {
    catalog: new DynamoCatalogStore(db, table),
    policies: new DynamoPolicyStore(db, table),
    registry: new DynamoRegistryStore(db, table),
    locks: new DynamoLockStore(db, table),
    dedupe: new DynamoDedupeStore(db, table),
    workflows: new DynamoWorkflowStore(db, table),
    approvals: new DynamoApprovalStore(db, table),
    deploymentWaits: new DynamoDeploymentWaitStore(db, table),
    bakeWatches: new DynamoBakeWatchStore(db, table),
    waves: new DynamoWaveStore(db, table),
  };
}
export type Stores = ReturnType<typeof dynamoStores>;
