import type { Kysely, Transaction } from 'kysely';
import { type ArchiveCountPolicy, ArchiveCounts } from './archive-counts.js';
import type { Storage } from './contract.js';
import type { Dialect } from './dialect.js';
import { migrationList } from './migration-list.js';
import { runMigrations } from './migrations.js';
import type { WakeChannel } from './postgres/notifier.js';
import type { DB } from './schema.js';
import { SqlActions } from './sql-actions.js';
import { SqlDelivery } from './sql-delivery.js';
import { SqlIngest } from './sql-ingest.js';
import {
  applySignup,
  createIntegration,
  deleteIntegration,
  getIntegration,
  listIntegrations,
  setIntegrationMappingsEnabled,
  updateIntegration,
} from './sql-integrations.js';
import {
  createMapping,
  deleteMapping,
  findMappingByName,
  getMapping,
  identifierKeyHeld,
  listMappings,
  mappingsVersion,
  updateMapping,
} from './sql-mappings.js';
import { SqlParameters } from './sql-parameters.js';
import { SqlReads } from './sql-reads.js';
import { SqlRetention } from './sql-retention.js';
import {
  createScheduler,
  deleteScheduler,
  fireSchedulers,
  getScheduler,
  listSchedulers,
  updateScheduler,
} from './sql-schedulers.js';
import { SqlStores } from './sql-stores.js';

type Tx = Transaction<DB>;

/** Query functions whose first parameter is the database, as methods bound to one database. */
type Bound<T> = {
  [K in keyof T]: T[K] extends (db: Kysely<DB>, ...args: infer A) => infer R ? (...args: A) => R : never;
};

function bound<T extends Record<string, (db: Kysely<DB>, ...args: never[]) => unknown>>(
  db: Kysely<DB>,
  queries: T,
): Bound<T> {
  const out: Record<string, unknown> = {};
  for (const [name, query] of Object.entries(queries)) {
    out[name] = (...args: never[]) => query(db, ...args);
  }
  return out as Bound<T>;
}

/**
 * The one Storage implementation, for both databases: the SQL lives in the parts (sql-*.ts, one
 * per area of the contract) and whatever differs between databases in `dialect`, built by the
 * adapter (sqlite/open.ts, postgres/open.ts). This class only wires them: every contract method
 * is one line forwarding to its part, in one style, so adding one means the contract, the part,
 * and a line here (the compiler points at the missing line).
 */
export class SqlStorage implements Storage {
  readonly database: Storage['database'];
  private readonly stores: SqlStores;
  private readonly ingest: SqlIngest;
  private readonly reads: SqlReads;
  private readonly delivery: SqlDelivery;
  private readonly actions: SqlActions;
  private readonly parameters: SqlParameters;
  private readonly retention: SqlRetention;
  private readonly mappings;
  private readonly integrations;
  private readonly schedulers;

  constructor(
    readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    options: { archiveCounts?: ArchiveCountPolicy | undefined } = {},
  ) {
    this.database = { name: dialect.name, singleProcess: dialect.singleProcess };
    const notify = (trx: Tx, channel: WakeChannel) => this.notify(trx, channel);
    this.stores = new SqlStores(db, dialect.lock);
    this.ingest = new SqlIngest(db, dialect, notify);
    this.reads = new SqlReads(db, dialect.reader, new ArchiveCounts(options.archiveCounts));
    this.delivery = new SqlDelivery(db, dialect, notify);
    this.actions = new SqlActions(db, notify);
    this.parameters = new SqlParameters(db);
    this.retention = new SqlRetention(db);
    this.mappings = bound(db, {
      listMappings,
      getMapping,
      findMappingByName,
      createMapping,
      updateMapping,
      deleteMapping,
      mappingsVersion,
      identifierKeyHeld,
    });
    this.integrations = bound(db, {
      listIntegrations,
      getIntegration,
      createIntegration,
      updateIntegration,
      deleteIntegration,
      applySignup,
      setIntegrationMappingsEnabled,
    });
    this.schedulers = bound(db, {
      listSchedulers,
      getScheduler,
      createScheduler,
      updateScheduler,
      deleteScheduler,
      // tick messages go to the incoming queue: pushes must not be routed ahead of them
      fireSchedulers: (d: Kysely<DB>, ...a: Parameters<Storage['fireSchedulers']>) =>
        fireSchedulers(d, dialect, () => this.ingest.incomingQueued(), ...a),
    });
  }

  async migrate(): Promise<void> {
    await runMigrations(this.db as unknown as Kysely<unknown>, migrationList(this.dialect.timeType));
  }

  subscribe(
    onWake: (channel: WakeChannel) => void,
    onError: (err: Error) => void = () => {},
  ): () => Promise<void> {
    return this.dialect.listen ? this.dialect.listen(onWake, onError) : async () => {};
  }

  private async notify(trx: Tx, channel: WakeChannel): Promise<void> {
    // something is being added to the incoming queue (a reply's messages, a queued push): push-time
    // routing stops until intake has taken it (marked before the commit: conservative)
    if (channel === 'incoming') this.ingest.incomingQueued();
    if (this.dialect.notify) await this.dialect.notify(trx, channel);
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('stores').select('id').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.ingest.drain();
    await this.delivery.drain();
    await this.dialect.reader?.db.destroy();
    await this.db.destroy();
    await this.dialect.close();
  }

  // ---- stores, tokens, store schemas, retention (sql-stores.ts, sql-retention.ts) -------------

  createStore: Storage['createStore'] = (...a) => this.stores.createStore(...a);
  createFirstStore: Storage['createFirstStore'] = (...a) => this.stores.createFirstStore(...a);
  getStore: Storage['getStore'] = (...a) => this.stores.getStore(...a);
  listStores: Storage['listStores'] = (...a) => this.stores.listStores(...a);
  countStores: Storage['countStores'] = (...a) => this.stores.countStores(...a);
  addToken: Storage['addToken'] = (...a) => this.stores.addToken(...a);
  listTokens: Storage['listTokens'] = (...a) => this.stores.listTokens(...a);
  revokeToken: Storage['revokeToken'] = (...a) => this.stores.revokeToken(...a);
  setStoreLimits: Storage['setStoreLimits'] = (...a) => this.stores.setStoreLimits(...a);
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
  intake: Storage['intake'] = (...a) => this.ingest.intake(...a);
  handOverCopies: Storage['handOverCopies'] = (...a) => this.ingest.handOverCopies(...a);
  observeSyncs: Storage['observeSyncs'] = (...a) => this.dialect.observeSyncs?.(...a);

  // ---- reads (sql-reads.ts) ------------------------------------------------------------------

  getMessage: Storage['getMessage'] = (...a) => this.reads.getMessage(...a);
  children: Storage['children'] = (...a) => this.reads.children(...a);
  listQueue: Storage['listQueue'] = (...a) => this.reads.listQueue(...a);
  queueCounts: Storage['queueCounts'] = (...a) => this.reads.queueCounts(...a);
  availableMessages: Storage['availableMessages'] = (...a) => this.reads.availableMessages(...a);
  listNotifications: Storage['listNotifications'] = (...a) => this.reads.listNotifications(...a);

  // ---- mappings (sql-mappings.ts) ------------------------------------------------------------

  listMappings: Storage['listMappings'] = (...a) => this.mappings.listMappings(...a);
  getMapping: Storage['getMapping'] = (...a) => this.mappings.getMapping(...a);
  findMappingByName: Storage['findMappingByName'] = (...a) => this.mappings.findMappingByName(...a);
  createMapping: Storage['createMapping'] = (...a) => this.mappings.createMapping(...a);
  updateMapping: Storage['updateMapping'] = (...a) => this.mappings.updateMapping(...a);
  deleteMapping: Storage['deleteMapping'] = (...a) => this.mappings.deleteMapping(...a);
  mappingsVersion: Storage['mappingsVersion'] = (...a) => this.mappings.mappingsVersion(...a);
  identifierKeyHeld: Storage['identifierKeyHeld'] = (...a) => this.mappings.identifierKeyHeld(...a);

  // ---- delivery, actions, parameters (sql-delivery.ts, sql-actions.ts, sql-parameters.ts) -----

  leaseDeliveries: Storage['leaseDeliveries'] = (...a) => this.delivery.leaseDeliveries(...a);
  renewLeases: Storage['renewLeases'] = (...a) => this.delivery.renewLeases(...a);
  settle: Storage['settle'] = (...a) => this.delivery.settle(...a);
  sweepLeases: Storage['sweepLeases'] = (...a) => this.delivery.sweepLeases(...a);
  attemptsFor: Storage['attemptsFor'] = (...a) => this.delivery.attemptsFor(...a);
  notificationsFor: Storage['notificationsFor'] = (...a) => this.delivery.notificationsFor(...a);
  retryMessage: Storage['retryMessage'] = (...a) => this.actions.retryMessage(...a);
  archiveMessage: Storage['archiveMessage'] = (...a) => this.actions.archiveMessage(...a);
  retryMatching: Storage['retryMatching'] = (...a) => this.actions.retryMatching(...a);
  archiveMatching: Storage['archiveMatching'] = (...a) => this.actions.archiveMatching(...a);
  listParameters: Storage['listParameters'] = (...a) => this.parameters.listParameters(...a);
  getParameter: Storage['getParameter'] = (...a) => this.parameters.getParameter(...a);
  putParameter: Storage['putParameter'] = (...a) => this.parameters.putParameter(...a);
  deleteParameter: Storage['deleteParameter'] = (...a) => this.parameters.deleteParameter(...a);

  // ---- integrations and schedulers (sql-integrations.ts, sql-schedulers.ts) ------------------

  listIntegrations: Storage['listIntegrations'] = (...a) => this.integrations.listIntegrations(...a);
  getIntegration: Storage['getIntegration'] = (...a) => this.integrations.getIntegration(...a);
  createIntegration: Storage['createIntegration'] = (...a) => this.integrations.createIntegration(...a);
  updateIntegration: Storage['updateIntegration'] = (...a) => this.integrations.updateIntegration(...a);
  deleteIntegration: Storage['deleteIntegration'] = (...a) => this.integrations.deleteIntegration(...a);
  applySignup: Storage['applySignup'] = (...a) => this.integrations.applySignup(...a);
  setIntegrationMappingsEnabled: Storage['setIntegrationMappingsEnabled'] = (...a) =>
    this.integrations.setIntegrationMappingsEnabled(...a);
  listSchedulers: Storage['listSchedulers'] = (...a) => this.schedulers.listSchedulers(...a);
  getScheduler: Storage['getScheduler'] = (...a) => this.schedulers.getScheduler(...a);
  createScheduler: Storage['createScheduler'] = (...a) => this.schedulers.createScheduler(...a);
  updateScheduler: Storage['updateScheduler'] = (...a) => this.schedulers.updateScheduler(...a);
  deleteScheduler: Storage['deleteScheduler'] = (...a) => this.schedulers.deleteScheduler(...a);
  fireSchedulers: Storage['fireSchedulers'] = (...a) => this.schedulers.fireSchedulers(...a);
}
