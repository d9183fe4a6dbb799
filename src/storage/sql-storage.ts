import type { Kysely, Transaction } from 'kysely';
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
import type { Mapping, MappingFields } from './mapping-contract.js';
import type { SqlMigrations } from './migrations.js';
import { runMigrations } from './migrations.js';
import type { DB } from './schema.js';
import { SqlDelivery } from './sql-delivery.js';
import * as mappings from './sql-mappings.js';
import { claimQuery, copyRow, filterMessages, incomingRow, MESSAGE_COLUMNS } from './sql-messages.js';

type Tx = Transaction<DB>;
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
    this.delivery = new SqlDelivery(db, hooks.dialect);
  }

  async migrate(): Promise<void> {
    await runMigrations(this.db as unknown as Kysely<unknown>, this.hooks.migrations);
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

  private async applyDecisions(
    trx: Tx,
    batch: MessageRecord[],
    decisions: IntakeDecision[],
    now: number,
  ): Promise<void> {
    const byId = new Map(batch.map((m) => [m.id, m]));
    const copies: MessageRow[] = [];
    for (const decision of decisions) {
      const incoming = byId.get(decision.id);
      if (!incoming) continue;
      const archived = await trx
        .updateTable('messages')
        .set({
          queue_name: 'archived',
          source: 'incoming',
          state: decision.invalid ? 'invalid' : 'completed',
          reason: decision.invalid ?? null,
          completed_at: now,
        })
        .where('id', '=', incoming.id)
        .where('queue_name', '=', 'incoming')
        .executeTakeFirst();
      if (Number(archived.numUpdatedRows) === 0 || decision.invalid) continue;

      let taken = 0;
      let duplicates = 0;
      for (const copy of decision.copies) {
        const duplicate = copy.dedup ? !(await this.takeIdentifierKey(trx, copy, now)) : false;
        copies.push(copyRow(incoming, copy, now, duplicate));
        if (duplicate) duplicates++;
        else taken++;
      }
      if (taken === 0) {
        await trx
          .updateTable('messages')
          .set({ state: 'skipped', reason: duplicates > 0 ? 'duplicate' : (decision.reason ?? 'no mapping') })
          .where('id', '=', incoming.id)
          .execute();
      }
    }
    await this.insertMessages(trx, copies);
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
  ): Promise<{ items: MessageRecord[]; total: number }> {
    const q = filterMessages(this.db, storeId, queue, filter);
    const [items, count] = await Promise.all([
      q
        .select(MESSAGE_COLUMNS)
        .orderBy('id', 'desc')
        .limit(page.per_page)
        .offset((page.page - 1) * page.per_page)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
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
  extendLease: DeliveryStorage['extendLease'] = (...a) => this.delivery.extendLease(...a);
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
}
