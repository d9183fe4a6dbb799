import { type Kysely, sql, type Transaction } from 'kysely';
import type {
  AcceptedCopy,
  ChildSummary,
  IntakeDecision,
  MessageRecord,
  Page,
  PushOutcome,
  PushRequest,
  QueueCounts,
  QueueFilter,
  QueueName,
  Storage,
  Store,
  StoreSchema,
  StoreToken,
} from './contract.js';
import type { DeliveryStorage } from './delivery-contract.js';
import { GroupCommitter } from './group-commit.js';
import type { IntegrationStorage, SchedulerStorage } from './integration-contract.js';
import type { Mapping, MappingFields } from './mapping-contract.js';
import type { SqlMigrations } from './migrations.js';
import { runMigrations } from './migrations.js';
import type { WakeChannel } from './postgres/notifier.js';
import type { DB } from './schema.js';
import { SqlDelivery } from './sql-delivery.js';
import * as integrations from './sql-integrations.js';
import * as mappings from './sql-mappings.js';
import { claimQuery, copyRow, filterMessages, incomingRow, MESSAGE_COLUMNS } from './sql-messages.js';
import * as schedulers from './sql-schedulers.js';

type Tx = Transaction<DB>;

/** Listings count matching rows exactly up to this many. */
export const COUNT_CAP = 10_000;
type MessageRow = DB['messages'];

/**
 * How the two dialects claim incoming work for intake:
 * - `select-then-apply` (SQLite: one process, one intake worker) reads the batch, lets the router
 *   decide with no transaction open, then applies the decisions in one transaction whose updates
 *   are guarded by `queue_name = 'incoming'`.
 * - `lock-in-transaction` (PostgreSQL: many processes) opens the transaction first and claims the
 *   batch with FOR UPDATE SKIP LOCKED, so two processes never route the same message.
 */
export interface DialectHooks {
  readonly dialect: 'sqlite' | 'postgres';
  readonly intakeMode: 'select-then-apply' | 'lock-in-transaction';
  readonly migrations: SqlMigrations;
  /** Largest number of rows in one multi-row INSERT (bound-parameter limits differ). */
  readonly insertChunk: number;
  /** A faster way to insert message rows inside an open transaction (SQLite: a prepared statement). */
  readonly insertMessageRows?: (rows: readonly MessageRow[]) => void;
  /** Serialize a rare one-off action across processes until the transaction ends (PostgreSQL). */
  readonly lock?: (trx: Tx, name: string) => Promise<void>;
  /** Tell other processes, at commit, that a queue has new work (PostgreSQL: pg_notify). */
  readonly notify?: (trx: Tx, channel: WakeChannel) => Promise<void>;
  /** Listen for other processes' notifications; returns a stop function. */
  readonly listen?: (
    onWake: (channel: WakeChannel) => void,
    onError: (err: Error) => void,
  ) => () => Promise<void>;
  close(): Promise<void>;
}

export class SqlStorage implements Storage {
  readonly dialect: 'sqlite' | 'postgres';
  private readonly pushes: GroupCommitter<PushRequest, PushOutcome>;
  private readonly delivery: SqlDelivery;
  /** (store, type) pairs already recorded in message_types_seen by this process. */
  private readonly seenTypes = new Set<string>();

  constructor(
    readonly db: Kysely<DB>,
    private readonly hooks: DialectHooks,
  ) {
    this.dialect = hooks.dialect;
    this.pushes = new GroupCommitter((batch) => this.commitPushes(batch));
    this.delivery = new SqlDelivery(db, hooks.dialect, (trx, channel) => this.notify(trx, channel));
  }

  async migrate(): Promise<void> {
    await runMigrations(this.db as unknown as Kysely<unknown>, this.hooks.migrations);
  }

  subscribe(
    onWake: (channel: WakeChannel) => void,
    onError: (err: Error) => void = () => {},
  ): () => Promise<void> {
    return this.hooks.listen ? this.hooks.listen(onWake, onError) : async () => {};
  }

  private async notify(trx: Tx, channel: WakeChannel): Promise<void> {
    if (this.hooks.notify) await this.hooks.notify(trx, channel);
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('stores').select('id').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.pushes.drain();
    await this.delivery.drain();
    await this.db.destroy();
    await this.hooks.close();
  }

  // ---- stores and tokens -------------------------------------------------------------------

  async createStore(store: Store, token: StoreToken): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('stores').values(store).execute();
      await trx.insertInto('store_tokens').values(token).execute();
    });
  }

  async createFirstStore(store: Store, token: StoreToken): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // SQLite's BEGIN IMMEDIATE already serializes writers; PostgreSQL takes a transaction lock
      await this.hooks.lock?.(trx, 'switchyard:first-store');
      const row = await trx.selectFrom('stores').select('id').limit(1).executeTakeFirst();
      if (row) return false;
      await trx.insertInto('stores').values(store).execute();
      await trx.insertInto('store_tokens').values(token).execute();
      return true;
    });
  }

  async getStore(id: string): Promise<Store | undefined> {
    return this.db.selectFrom('stores').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listStores(): Promise<Store[]> {
    return this.db.selectFrom('stores').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async countStores(): Promise<number> {
    const row = await this.db
      .selectFrom('stores')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async addToken(token: StoreToken): Promise<void> {
    await this.db.insertInto('store_tokens').values(token).execute();
  }

  async listTokens(storeId: string): Promise<StoreToken[]> {
    return this.db
      .selectFrom('store_tokens')
      .selectAll()
      .where('store_id', '=', storeId)
      .orderBy('created_at')
      .execute();
  }

  async revokeToken(storeId: string, tokenId: string, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable('store_tokens')
      .set({ revoked_at: at })
      .where('store_id', '=', storeId)
      .where('id', '=', tokenId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async activeTokenHashes(storeId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('store_tokens')
      .select('token_hash')
      .where('store_id', '=', storeId)
      .where('revoked_at', 'is', null)
      .execute();
    return rows.map((r) => r.token_hash);
  }

  // ---- push ----------------------------------------------------------------------------------

  push(request: PushRequest): Promise<PushOutcome> {
    return this.pushes.submit(request);
  }

  private async commitPushes(batch: PushRequest[]): Promise<PushOutcome[]> {
    const newTypes = new Set<string>();
    const outcomes = await this.db.transaction().execute(async (trx) => {
      const outcomes: PushOutcome[] = [];
      const rows: MessageRow[] = [];
      for (const req of batch) {
        if (req.idempotency && !(await this.claimIdempotencyKey(trx, req))) {
          const prior = await trx
            .selectFrom('idempotency_keys')
            .select('response')
            .where('store_id', '=', req.message.store_id)
            .where('key', '=', req.idempotency.key)
            .executeTakeFirstOrThrow();
          outcomes.push({ kind: 'replayed', response: prior.response });
          continue;
        }
        rows.push(incomingRow(req.message));
        outcomes.push({ kind: 'created' });
        const seenKey = `${req.message.store_id}\u0000${req.message.message}`;
        if (!this.seenTypes.has(seenKey)) newTypes.add(seenKey);
      }
      await this.insertMessages(trx, rows);
      if (rows.length > 0) await this.notify(trx, 'incoming');
      if (newTypes.size > 0) {
        const values = [...newTypes].map((k) => {
          const [store_id, message] = k.split('\u0000') as [string, string];
          return { store_id, message };
        });
        await trx
          .insertInto('message_types_seen')
          .values(values)
          .onConflict((oc) => oc.columns(['store_id', 'message']).doNothing())
          .execute();
      }
      return outcomes;
    });
    for (const k of newTypes) this.seenTypes.add(k);
    return outcomes;
  }

  /** True when this request now owns the key; false when an unexpired earlier request holds it. */
  private async claimIdempotencyKey(trx: Tx, req: PushRequest): Promise<boolean> {
    const idem = req.idempotency!;
    await trx
      .deleteFrom('idempotency_keys')
      .where('store_id', '=', req.message.store_id)
      .where('key', '=', idem.key)
      .where('created_at', '<', idem.expires_before)
      .execute();
    const res = await trx
      .insertInto('idempotency_keys')
      .values({
        store_id: req.message.store_id,
        key: idem.key,
        message_id: req.message.id,
        response: idem.response,
        created_at: req.message.created_at,
      })
      .onConflict((oc) => oc.columns(['store_id', 'key']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  private async insertMessages(trx: Tx, rows: MessageRow[]): Promise<void> {
    if (this.hooks.insertMessageRows) {
      this.hooks.insertMessageRows(rows);
      return;
    }
    for (let i = 0; i < rows.length; i += this.hooks.insertChunk) {
      await trx
        .insertInto('messages')
        .values(rows.slice(i, i + this.hooks.insertChunk))
        .execute();
    }
  }

  // ---- intake --------------------------------------------------------------------------------

  async intake(
    limit: number,
    decide: (batch: MessageRecord[]) => IntakeDecision[] | Promise<IntakeDecision[]>,
    now: number,
  ): Promise<number> {
    if (this.hooks.intakeMode === 'lock-in-transaction') {
      return this.db.transaction().execute(async (trx) => {
        const batch = await claimQuery(trx, limit).forUpdate().skipLocked().execute();
        if (batch.length === 0) return 0;
        const decisions = await decide(batch);
        await this.applyDecisions(trx, batch, decisions, now);
        return batch.length;
      });
    }
    const batch = await claimQuery(this.db, limit).execute();
    if (batch.length === 0) return 0;
    const decisions = await decide(batch);
    await this.db.transaction().execute((trx) => this.applyDecisions(trx, batch, decisions, now));
    return batch.length;
  }

  /**
   * Applies a batch of routing decisions with a handful of statements, not a few per message: one
   * UPDATE claims every incoming message of the batch (archived `completed`, guarded by
   * `queue_name = 'incoming'`, RETURNING the ones this call owns), one multi-row INSERT adds all
   * copies, and one UPDATE per distinct reason re-labels the skipped and invalid ones.
   */
  private async applyDecisions(
    trx: Tx,
    batch: MessageRecord[],
    decisions: IntakeDecision[],
    now: number,
  ): Promise<void> {
    const byId = new Map(batch.map((m) => [m.id, m]));
    const owned = new Set<string>();
    const ids = decisions.map((d) => d.id).filter((id) => byId.has(id));
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await trx
        .updateTable('messages')
        .set({ queue_name: 'archived', source: 'incoming', state: 'completed', completed_at: now })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('queue_name', '=', 'incoming')
        .returning('id')
        .execute();
      for (const r of rows) owned.add(r.id);
    }

    const copies: MessageRow[] = [];
    const relabel = new Map<string, { state: 'skipped' | 'invalid'; ids: string[] }>();
    const mark = (state: 'skipped' | 'invalid', reason: string, id: string) => {
      const key = `${state}\u0000${reason}`;
      const entry = relabel.get(key) ?? { state, ids: [] };
      entry.ids.push(id);
      relabel.set(key, entry);
    };
    for (const decision of decisions) {
      const incoming = byId.get(decision.id);
      if (!incoming || !owned.has(incoming.id)) continue;
      if (decision.invalid) {
        mark('invalid', decision.invalid, incoming.id);
        continue;
      }
      let taken = 0;
      let duplicates = 0;
      for (const copy of decision.copies) {
        const duplicate = copy.dedup ? !(await this.takeIdentifierKey(trx, copy, now)) : false;
        copies.push(copyRow(incoming, copy, now, duplicate));
        if (duplicate) duplicates++;
        else taken++;
      }
      if (taken === 0)
        mark('skipped', duplicates > 0 ? 'duplicate' : (decision.reason ?? 'no mapping'), incoming.id);
    }
    for (const [key, { state, ids: group }] of relabel) {
      const reason = key.slice(key.indexOf('\u0000') + 1);
      for (let i = 0; i < group.length; i += 500) {
        await trx
          .updateTable('messages')
          .set({ state, reason })
          .where('id', 'in', group.slice(i, i + 500))
          .execute();
      }
    }
    await this.insertMessages(trx, copies);
    if (copies.some((c) => c.queue_name === 'accepted')) await this.notify(trx, 'accepted');
  }

  private async takeIdentifierKey(trx: Tx, copy: AcceptedCopy, now: number): Promise<boolean> {
    const dedup = copy.dedup!;
    await trx
      .deleteFrom('identifier_keys')
      .where('mapping_id', '=', copy.mapping_id)
      .where('key', '=', dedup.key)
      .where('expires_at', '<=', now)
      .execute();
    const res = await trx
      .insertInto('identifier_keys')
      .values({
        mapping_id: copy.mapping_id,
        key: dedup.key,
        message_id: copy.id,
        expires_at: dedup.expires_at,
      })
      .onConflict((oc) => oc.columns(['mapping_id', 'key']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  // ---- reads ---------------------------------------------------------------------------------

  async getMessage(storeId: string, id: string): Promise<MessageRecord | undefined> {
    return this.db
      .selectFrom('messages')
      .select(MESSAGE_COLUMNS)
      .where('store_id', '=', storeId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async children(storeId: string, parentId: string): Promise<ChildSummary[]> {
    return this.db
      .selectFrom('messages')
      .select(['id', 'message', 'state', 'queue_name'])
      .where('parent_id', '=', parentId)
      .where('store_id', '=', storeId)
      .orderBy('id')
      .execute();
  }

  async listQueue(
    storeId: string,
    queue: QueueName,
    filter: QueueFilter,
    page: Page,
  ): Promise<{ items: MessageRecord[]; total: number; capped: boolean }> {
    const q = filterMessages(this.db, storeId, queue, filter);
    // Counting a million archived rows costs more than the page itself, so the count stops at
    // COUNT_CAP + 1 rows: exact below the cap, "at least COUNT_CAP" above it.
    const limited = q
      .select(sql<number>`1`.as('one'))
      .limit(COUNT_CAP + 1)
      .as('limited');
    const [items, count] = await Promise.all([
      q
        .select(MESSAGE_COLUMNS)
        .orderBy('id', 'desc')
        .limit(page.per_page)
        .offset((page.page - 1) * page.per_page)
        .execute(),
      this.db
        .selectFrom(limited)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    const n = Number(count.n);
    return { items, total: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP };
  }

  async queueCounts(storeId: string): Promise<QueueCounts> {
    const rows = await this.db
      .selectFrom('messages')
      .select(['queue_name', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('store_id', '=', storeId)
      .where('queue_name', 'in', ['incoming', 'accepted'])
      .groupBy(['queue_name', 'state'])
      .execute();
    const archived = await this.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('store_id', '=', storeId)
      .where('queue_name', '=', 'archived')
      .executeTakeFirstOrThrow();
    const counts: QueueCounts = {
      incoming: 0,
      pending: 0,
      running: 0,
      failing: 0,
      scheduled: 0,
      parked: 0,
      archived: Number(archived.n),
    };
    for (const row of rows) {
      if (row.queue_name === 'incoming') counts.incoming += Number(row.n);
      else if (row.state in counts) counts[row.state as keyof QueueCounts] += Number(row.n);
    }
    return counts;
  }

  async availableMessages(storeId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('message_types_seen')
      .select('message')
      .where('store_id', '=', storeId)
      .orderBy('message')
      .execute();
    return rows.map((r) => r.message);
  }

  // ---- store schemas -------------------------------------------------------------------------

  async putStoreSchema(schema: StoreSchema): Promise<StoreSchema> {
    return this.db.transaction().execute(async (trx) => {
      const prior = await trx
        .selectFrom('store_schemas')
        .select('version')
        .where('store_id', '=', schema.store_id)
        .where('message', '=', schema.message)
        .executeTakeFirst();
      const row = { ...schema, version: (prior?.version ?? 0) + 1 };
      if (prior) {
        await trx
          .updateTable('store_schemas')
          .set({ schema: row.schema, version: row.version, updated_at: row.updated_at })
          .where('store_id', '=', schema.store_id)
          .where('message', '=', schema.message)
          .execute();
      } else {
        await trx.insertInto('store_schemas').values(row).execute();
      }
      return row;
    });
  }

  async getStoreSchema(storeId: string, message: string): Promise<StoreSchema | undefined> {
    return this.db
      .selectFrom('store_schemas')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('message', '=', message)
      .executeTakeFirst();
  }

  async listStoreSchemas(storeId: string): Promise<StoreSchema[]> {
    return this.db
      .selectFrom('store_schemas')
      .selectAll()
      .where('store_id', '=', storeId)
      .orderBy('message')
      .execute();
  }

  async deleteStoreSchema(storeId: string, message: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('store_schemas')
      .where('store_id', '=', storeId)
      .where('message', '=', message)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async purgeIdempotencyKeys(before: number): Promise<number> {
    const res = await this.db
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  // ---- mappings (queries in sql-mappings.ts) -------------------------------------------------

  listMappings(storeId: string): Promise<Mapping[]> {
    return mappings.listMappings(this.db, storeId);
  }

  getMapping(storeId: string, id: string): Promise<Mapping | undefined> {
    return mappings.getMapping(this.db, storeId, id);
  }

  findMappingByName(storeId: string, name: string): Promise<Mapping | undefined> {
    return mappings.findMappingByName(this.db, storeId, name);
  }

  createMapping(mapping: Mapping): Promise<Mapping> {
    return mappings.createMapping(this.db, mapping);
  }

  updateMapping(
    storeId: string,
    id: string,
    fields: MappingFields,
    now: number,
  ): Promise<Mapping | undefined> {
    return mappings.updateMapping(this.db, storeId, id, fields, now);
  }

  deleteMapping(storeId: string, id: string): Promise<boolean> {
    return mappings.deleteMapping(this.db, storeId, id);
  }

  mappingsVersion(storeId: string): Promise<number> {
    return mappings.mappingsVersion(this.db, storeId);
  }

  identifierKeyHeld(mappingId: string, key: string, now: number): Promise<boolean> {
    return mappings.identifierKeyHeld(this.db, mappingId, key, now);
  }

  // ---- delivery (queries in sql-delivery.ts) -------------------------------------------------

  leaseDeliveries: DeliveryStorage['leaseDeliveries'] = (...a) => this.delivery.leaseDeliveries(...a);
  renewLeases: DeliveryStorage['renewLeases'] = (...a) => this.delivery.renewLeases(...a);
  settle: DeliveryStorage['settle'] = (...a) => this.delivery.settle(...a);
  sweepLeases: DeliveryStorage['sweepLeases'] = (...a) => this.delivery.sweepLeases(...a);
  attemptsFor: DeliveryStorage['attemptsFor'] = (...a) => this.delivery.attemptsFor(...a);
  notificationsFor: DeliveryStorage['notificationsFor'] = (...a) => this.delivery.notificationsFor(...a);
  listNotifications: DeliveryStorage['listNotifications'] = (...a) => this.delivery.listNotifications(...a);
  retryMessage: DeliveryStorage['retryMessage'] = (...a) => this.delivery.retryMessage(...a);
  archiveMessage: DeliveryStorage['archiveMessage'] = (...a) => this.delivery.archiveMessage(...a);
  retryMatching: DeliveryStorage['retryMatching'] = (...a) => this.delivery.retryMatching(...a);
  archiveMatching: DeliveryStorage['archiveMatching'] = (...a) => this.delivery.archiveMatching(...a);
  listParameters: DeliveryStorage['listParameters'] = (...a) => this.delivery.listParameters(...a);
  getParameter: DeliveryStorage['getParameter'] = (...a) => this.delivery.getParameter(...a);
  putParameter: DeliveryStorage['putParameter'] = (...a) => this.delivery.putParameter(...a);
  deleteParameter: DeliveryStorage['deleteParameter'] = (...a) => this.delivery.deleteParameter(...a);

  // ---- integrations and schedulers (queries in sql-integrations.ts, sql-schedulers.ts) --------

  listIntegrations: IntegrationStorage['listIntegrations'] = (...a) =>
    integrations.listIntegrations(this.db, ...a);
  getIntegration: IntegrationStorage['getIntegration'] = (...a) => integrations.getIntegration(this.db, ...a);
  createIntegration: IntegrationStorage['createIntegration'] = (...a) =>
    integrations.createIntegration(this.db, ...a);
  updateIntegration: IntegrationStorage['updateIntegration'] = (...a) =>
    integrations.updateIntegration(this.db, ...a);
  deleteIntegration: IntegrationStorage['deleteIntegration'] = (...a) =>
    integrations.deleteIntegration(this.db, ...a);
  setMappingIntegration: IntegrationStorage['setMappingIntegration'] = (...a) =>
    integrations.setMappingIntegration(this.db, ...a);
  setIntegrationMappingsEnabled: IntegrationStorage['setIntegrationMappingsEnabled'] = (...a) =>
    integrations.setIntegrationMappingsEnabled(this.db, ...a);
  listSchedulers: SchedulerStorage['listSchedulers'] = (...a) => schedulers.listSchedulers(this.db, ...a);
  getScheduler: SchedulerStorage['getScheduler'] = (...a) => schedulers.getScheduler(this.db, ...a);
  createScheduler: SchedulerStorage['createScheduler'] = (...a) => schedulers.createScheduler(this.db, ...a);
  updateScheduler: SchedulerStorage['updateScheduler'] = (...a) => schedulers.updateScheduler(this.db, ...a);
  deleteScheduler: SchedulerStorage['deleteScheduler'] = (...a) => schedulers.deleteScheduler(this.db, ...a);
  fireSchedulers: SchedulerStorage['fireSchedulers'] = (...a) =>
    schedulers.fireSchedulers(this.db, this.hooks.dialect, ...a);
}
