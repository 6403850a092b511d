import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type StageArtifacts, WAVE_RETENTION_DAYS, type Wave, waveExpiresAt } from '../domain/waves';
import type { DuePage, WaveSoak, WaveStore } from '../ports';
import { call, isConditionFailure, queryDue, queryIndex, strip } from './dynamo-store';

/** The items of promotion waves in the single table (docs/data-model.md). */
export const waveKeys = {
  wave: (waveId: string) => ({ pk: `WAVE#${waveId}`, sk: 'WAVE' }),
  soak: (waveId: string, environment: string) => ({ pk: `WAVE#${waveId}`, sk: `SOAK#${environment}` }),
  stage: (component: string, environment: string, version: string) => ({
    pk: `WAVESTAGE#${component}#${environment}#${version}`,
    sk: 'LINK',
  }),
  head: (component: string) => ({ pk: `WAVES#${component}`, sk: 'HEAD' }),
  release: (release: string, component: string) => ({
    pk: `RELEASE#${release}`,
    sk: `COMPONENT#${component}`,
  }),
  eventArtifacts: (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: 'ARTIFACTS' }),
};

/** The index partitions: every wave (newest first) and the soaks not yet ended (soonest due first). */
export const WAVES_PARTITION = 'WAVES';
export const SOAKS_PENDING = 'SOAKS#PENDING';

/**
 * Waves with optimistic concurrency: each save is one UpdateItem conditional on the revision the
 * caller read, so two deliveries of events about one wave never lose an update (the loser reads
 * again and re-applies its event, which the pure transitions make idempotent). Only GetItem,
 * UpdateItem and Query: UpdateItem also creates an item, conditionally, so the functions that
 * write waves need no PutItem or DeleteItem. An ended wave, its closed soaks and its links carry
 * `expiresAt` (the table's TTL attribute) WAVE_RETENTION_DAYS after the wave ended; the head and
 * the waves still running are kept.
 */
export class DynamoWaveStore implements WaveStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(waveId: string): Promise<Wave | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: waveKeys.wave(waveId), ConsistentRead: true }),
      ),
    );
    return strip<Wave & Record<string, unknown>>(out.Item);
  }

  create(wave: Wave): Promise<boolean> {
    return this.write(
      wave,
      'attribute_not_exists(pk)',
      {},
      {
        gsi1pk: WAVES_PARTITION,
        gsi1sk: `${wave.startedAt}#${wave.waveId}`,
      },
    );
  }

  save(wave: Wave): Promise<boolean> {
    const expiresAt = waveExpiresAt(wave);
    return this.write(
      { ...wave, rev: wave.rev + 1 },
      'rev = :seen',
      { ':seen': wave.rev },
      expiresAt === undefined ? {} : { expiresAt },
    );
  }

  private async write(
    wave: Wave,
    condition: string,
    values: Record<string, unknown>,
    extra: Record<string, unknown>,
  ): Promise<boolean> {
    const { waveId: _id, expiresAt: _x, ...fields } = { ...wave } as Record<string, unknown>;
    const attributes = { ...fields, ...extra };
    const entries = Object.entries(attributes).filter(([, v]) => v !== undefined);
    try {
      await call('UpdateItem', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: waveKeys.wave(wave.waveId),
            UpdateExpression: `SET waveId = :waveId, ${entries.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#a${i}`, k])),
            ExpressionAttributeValues: {
              ':waveId': wave.waveId,
              ...Object.fromEntries(entries.map(([, v], i) => [`:a${i}`, v])),
              ...values,
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  list(limit: number): Promise<Wave[]> {
    return queryIndex<Wave>(this.db, this.table, WAVES_PARTITION, limit, false);
  }

  async findStage(component: string, environment: string, version: string): Promise<string | undefined> {
    return this.readWaveId(waveKeys.stage(component, environment, version));
  }

  async linkStage(
    component: string,
    environment: string,
    version: string,
    waveId: string,
    seen?: string,
  ): Promise<boolean> {
    try {
      await this.link(waveKeys.stage(component, environment, version), waveId, seen);
      return true;
    } catch (error) {
      if (seen && isConditionFailure(error)) return false;
      throw error;
    }
  }

  async head(component: string): Promise<{ waveId: string; version: string } | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: waveKeys.head(component), ConsistentRead: true }),
      ),
    );
    const item = out.Item;
    return item ? { waveId: String(item.waveId), version: String(item.version) } : undefined;
  }

  async setHead(
    component: string,
    head: { waveId: string; version: string },
    seen?: string,
  ): Promise<boolean> {
    try {
      await call('UpdateItem', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: waveKeys.head(component),
            UpdateExpression: 'SET waveId = :id, version = :version',
            ConditionExpression: seen ? 'waveId = :seen' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: {
              ':id': head.waveId,
              ':version': head.version,
              ...(seen ? { ':seen': seen } : {}),
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  releaseWave(release: string, component: string): Promise<string | undefined> {
    return this.readWaveId(waveKeys.release(release, component));
  }

  async linkRelease(release: string, component: string, waveId: string): Promise<void> {
    await this.link(waveKeys.release(release, component), waveId);
  }

  async scheduleSoak(soak: WaveSoak): Promise<void> {
    await call('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: waveKeys.soak(soak.waveId, soak.environment),
          UpdateExpression:
            'SET waveId = :w, environment = :e, component = :c, #until = :u, #status = :pending, gsi1pk = :p, gsi1sk = :due',
          ExpressionAttributeNames: { '#until': 'until', '#status': 'status' },
          ExpressionAttributeValues: {
            ':w': soak.waveId,
            ':e': soak.environment,
            ':c': soak.component,
            ':u': soak.until,
            ':pending': 'PENDING',
            ':p': SOAKS_PENDING,
            ':due': `${soak.until}#${soak.waveId}#${soak.environment}`,
          },
        }),
      ),
    );
  }

  listDueSoaks(now: string, limit: number, start?: Record<string, unknown>): Promise<DuePage<WaveSoak>> {
    return queryDue<WaveSoak>(this.db, this.table, SOAKS_PENDING, now, limit, start);
  }

  listPendingSoaks(limit: number): Promise<WaveSoak[]> {
    return queryIndex<WaveSoak>(this.db, this.table, SOAKS_PENDING, limit, true);
  }

  async closeSoak(waveId: string, environment: string, at: string): Promise<void> {
    await call('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: waveKeys.soak(waveId, environment),
          UpdateExpression: 'SET #status = :done, closedAt = :at, expiresAt = :x REMOVE gsi1pk, gsi1sk',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':done': 'DONE',
            ':at': at,
            ':x': Math.floor(Date.parse(at) / 1000) + WAVE_RETENTION_DAYS * 86_400,
          },
        }),
      ),
    ).catch((error) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  async saveEventArtifacts(eventId: string, artifacts: StageArtifacts, expiresAt: number): Promise<void> {
    await call('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: waveKeys.eventArtifacts(eventId),
          UpdateExpression: 'SET artifacts = :a, expiresAt = :x',
          ExpressionAttributeValues: { ':a': artifacts, ':x': expiresAt },
        }),
      ),
    );
  }

  async eventArtifacts(eventId: string): Promise<StageArtifacts | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: waveKeys.eventArtifacts(eventId),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item?.artifacts as StageArtifacts | undefined;
  }

  /**
   * The links of an ended wave expire with it: each stage's link it reached and its release link,
   * each only while it still names this wave (a newer wave that took a link over keeps it).
   */
  async expireLinks(wave: Wave, expiresAt: number): Promise<void> {
    const keys = [
      ...wave.stages
        .filter((s) => s.status !== 'PENDING' && s.status !== 'STOPPED')
        .map((s) => waveKeys.stage(wave.component, s.environment, wave.version)),
      ...(wave.release ? [waveKeys.release(wave.release, wave.component)] : []),
    ];
    for (const key of keys) {
      await call('UpdateItem', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET expiresAt = :x',
            ConditionExpression: 'waveId = :id',
            ExpressionAttributeValues: { ':x': expiresAt, ':id': wave.waveId },
          }),
        ),
      ).catch((error) => {
        if (!isConditionFailure(error)) throw error;
      });
    }
  }

  private async readWaveId(key: { pk: string; sk: string }): Promise<string | undefined> {
    const out = await call('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
    );
    return typeof out.Item?.waveId === 'string' ? out.Item.waveId : undefined;
  }

  /**
   * The latest wave to reach a stage (or a release) owns its link: a version published again
   * after its wave ended starts a new wave, which the events of its new workflow must find. With
   * `seen`, the write is conditional on the link still naming `seen` (or already `waveId`, a
   * second delivery), so a new wave takes over only the ended wave's link it read.
   */
  private async link(key: { pk: string; sk: string }, waveId: string, seen?: string): Promise<void> {
    await call('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          // A link taken over by a running wave no longer expires with the wave that had it.
          UpdateExpression: 'SET waveId = :id REMOVE expiresAt',
          ...(seen ? { ConditionExpression: 'waveId IN (:seen, :id)' } : {}),
          ExpressionAttributeValues: { ':id': waveId, ...(seen ? { ':seen': seen } : {}) },
        }),
      ),
    );
  }
}
