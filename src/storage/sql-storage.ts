import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import { type ArchiveCountPolicy, ArchiveCounts } from './archive-counts.js';
import type { Storage } from './contract.js';
import type { DeliveryStorage } from './delivery-contract.js';
import type { IntegrationStorage, SchedulerStorage } from './integration-contract.js';
import type { Mapping, MappingFields } from './mapping-contract.js';
import type { SqlMigrations } from './migrations.js';
import { runMigrations } from './migrations.js';
import type { WakeChannel } from './postgres/notifier.js';
import type { DB } from './schema.js';
import { SqlActions } from './sql-actions.js';
import { SqlDelivery } from './sql-delivery.js';
import { SqlIngest } from './sql-ingest.js';
import * as integrations from './sql-integrations.js';
import * as mappings from './sql-mappings.js';
import { SqlParameters } from './sql-parameters.js';
import { type SqlReader, SqlReads } from './sql-reads.js';
import { SqlRetention } from './sql-retention.js';
import * as schedulers from './sql-schedulers.js';
import { SqlStores } from './sql-stores.js';

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
  /** A faster way to insert message rows inside an open transaction (SQLite: a prepared statement). */
  readonly insertMessageRows?: (rows: readonly MessageRow[]) => void;
  /** Runs a write inside an open transaction at once, answering the rows changed (SQLite). */
  readonly runWrite?: (query: CompiledQuery) => number;
  /**
   * Writes that resolve at COMMIT, before the disk sync, and that sync (SQLite with its WAL
   * syncer): a push batch commits through it, hands its copies to the delivery engine, and only
   * then waits for the sync before its pushes are answered. Without it (PostgreSQL, whose COMMIT
   * is durable; SQLite with `--sqlite-sync normal`) the one connection does both. Once a sync has
   * failed, `db` refuses every transaction (nothing more is handed on).
   */
  readonly early?: { db: Kysely<DB>; durable: () => Promise<void> };
  /**
   * Where listings and counts run (sql-reads.ts). SQLite: a connection in a worker thread, so a
   * long scan leaves the event loop free; `together` runs reads in one read transaction there, so
   * a listing's page and its total agree. Without it (PostgreSQL, whose pool is already
   * asynchronous) they run on `db`, two that must agree in one REPEATABLE READ transaction.
   */
  readonly reader?: SqlReader;
  /** Reports disk sync durations (SQLite: the WAL syncer). */
  readonly observeSyncs?: (observe: (seconds: number) => void) => void;
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
  private readonly stores: SqlStores;
  private readonly ingest: SqlIngest;
  private readonly reads: SqlReads;
  private readonly delivery: SqlDelivery;
  private readonly actions: SqlActions;
  private readonly parameters: SqlParameters;
  private readonly retention: SqlRetention;

  constructor(
    readonly db: Kysely<DB>,
    private readonly hooks: DialectHooks,
    options: { archiveCounts?: ArchiveCountPolicy | undefined } = {},
  ) {
    this.dialect = hooks.dialect;
    const notify = (trx: Tx, channel: WakeChannel) => this.notify(trx, channel);
    this.stores = new SqlStores(db, hooks.lock);
    this.ingest = new SqlIngest(db, hooks, notify);
    this.reads = new SqlReads(db, hooks.reader, new ArchiveCounts(options.archiveCounts));
    this.delivery = new SqlDelivery(db, hooks.dialect, notify, hooks.runWrite);
    this.actions = new SqlActions(db, notify);
    this.parameters = new SqlParameters(db);
    this.retention = new SqlRetention(db);
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
    // something is being added to the incoming queue (a reply's messages, a queued push): push-time
    // routing stops until intake has taken it (marked before the commit: conservative)
    if (channel === 'incoming') this.ingest.incomingQueued();
    if (this.hooks.notify) await this.hooks.notify(trx, channel);
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('stores').select('id').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.ingest.drain();
    await this.delivery.drain();
    await this.hooks.reader?.db.destroy();
    await this.db.destroy();
    await this.hooks.close();
  }

  // ---- stores, tokens, store schemas (sql-stores.ts) -----------------------------------------

  createStore: Storage['createStore'] = (...a) => this.stores.createStore(...a);
  createFirstStore: Storage['createFirstStore'] = (...a) => this.stores.createFirstStore(...a);
  getStore: Storage['getStore'] = (...a) => this.stores.getStore(...a);
  listStores: Storage['listStores'] = (...a) => this.stores.listStores(...a);
  countStores: Storage['countStores'] = (...a) => this.stores.countStores(...a);
  addToken: Storage['addToken'] = (...a) => this.stores.addToken(...a);
  listTokens: Storage['listTokens'] = (...a) => this.stores.listTokens(...a);
  revokeToken: Storage['revokeToken'] = (...a) => this.stores.revokeToken(...a);
  activeTokenHashes: Storage['activeTokenHashes'] = (...a) => this.stores.activeTokenHashes(...a);
  putStoreSchema: Storage['putStoreSchema'] = (...a) => this.stores.putStoreSchema(...a);
  getStoreSchema: Storage['getStoreSchema'] = (...a) => this.stores.getStoreSchema(...a);
  listStoreSchemas: Storage['listStoreSchemas'] = (...a) => this.stores.listStoreSchemas(...a);
  deleteStoreSchema: Storage['deleteStoreSchema'] = (...a) => this.stores.deleteStoreSchema(...a);
  purgeIdempotencyKeys: Storage['purgeIdempotencyKeys'] = (...a) => this.stores.purgeIdempotencyKeys(...a);
  purgeArchived: Storage['purgeArchived'] = (...a) => this.retention.purgeArchived(...a);

  // ---- push and intake (sql-ingest.ts) -------------------------------------------------------

  push: Storage['push'] = (...a) => this.ingest.push(...a);
  routePushes: Storage['routePushes'] = (...a) => this.ingest.routePushes(...a);
  observeSyncs: Storage['observeSyncs'] = (observe) => this.hooks.observeSyncs?.(observe);
  intake: Storage['intake'] = (...a) => this.ingest.intake(...a);

  // ---- reads (sql-reads.ts) ------------------------------------------------------------------

  getMessage: Storage['getMessage'] = (...a) => this.reads.getMessage(...a);
  children: Storage['children'] = (...a) => this.reads.children(...a);
  listQueue: Storage['listQueue'] = (...a) => this.reads.listQueue(...a);
  queueCounts: Storage['queueCounts'] = (...a) => this.reads.queueCounts(...a);
  availableMessages: Storage['availableMessages'] = (...a) => this.reads.availableMessages(...a);

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
    expectedVersion?: number,
  ): Promise<Mapping | undefined> {
    return mappings.updateMapping(this.db, storeId, id, fields, now, expectedVersion);
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

  handOverCopies: DeliveryStorage['handOverCopies'] = (...a) => this.ingest.handOverCopies(...a);
  leaseDeliveries: DeliveryStorage['leaseDeliveries'] = (...a) => this.delivery.leaseDeliveries(...a);
  renewLeases: DeliveryStorage['renewLeases'] = (...a) => this.delivery.renewLeases(...a);
  settle: DeliveryStorage['settle'] = (...a) => this.delivery.settle(...a);
  sweepLeases: DeliveryStorage['sweepLeases'] = (...a) => this.delivery.sweepLeases(...a);
  attemptsFor: DeliveryStorage['attemptsFor'] = (...a) => this.delivery.attemptsFor(...a);
  notificationsFor: DeliveryStorage['notificationsFor'] = (...a) => this.delivery.notificationsFor(...a);
  listNotifications: DeliveryStorage['listNotifications'] = (...a) => this.reads.listNotifications(...a);
  retryMessage: DeliveryStorage['retryMessage'] = (...a) => this.actions.retryMessage(...a);
  archiveMessage: DeliveryStorage['archiveMessage'] = (...a) => this.actions.archiveMessage(...a);
  retryMatching: DeliveryStorage['retryMatching'] = (...a) => this.actions.retryMatching(...a);
  archiveMatching: DeliveryStorage['archiveMatching'] = (...a) => this.actions.archiveMatching(...a);
  listParameters: DeliveryStorage['listParameters'] = (...a) => this.parameters.listParameters(...a);
  getParameter: DeliveryStorage['getParameter'] = (...a) => this.parameters.getParameter(...a);
  putParameter: DeliveryStorage['putParameter'] = (...a) => this.parameters.putParameter(...a);
  deleteParameter: DeliveryStorage['deleteParameter'] = (...a) => this.parameters.deleteParameter(...a);

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
  applySignup: IntegrationStorage['applySignup'] = (...a) => integrations.applySignup(this.db, ...a);
  setIntegrationMappingsEnabled: IntegrationStorage['setIntegrationMappingsEnabled'] = (...a) =>
    integrations.setIntegrationMappingsEnabled(this.db, ...a);
  listSchedulers: SchedulerStorage['listSchedulers'] = (...a) => schedulers.listSchedulers(this.db, ...a);
  getScheduler: SchedulerStorage['getScheduler'] = (...a) => schedulers.getScheduler(this.db, ...a);
  createScheduler: SchedulerStorage['createScheduler'] = (...a) => schedulers.createScheduler(this.db, ...a);
  updateScheduler: SchedulerStorage['updateScheduler'] = (...a) => schedulers.updateScheduler(this.db, ...a);
  deleteScheduler: SchedulerStorage['deleteScheduler'] = (...a) => schedulers.deleteScheduler(this.db, ...a);
  fireSchedulers: SchedulerStorage['fireSchedulers'] = async (...a) => {
    const ticks = await schedulers.fireSchedulers(this.db, this.hooks.dialect, ...a);
    // tick messages went to the incoming queue: pushes must not be routed ahead of them
    if (ticks.some((t) => t.message)) this.ingest.incomingQueued();
    return ticks;
  };
}
