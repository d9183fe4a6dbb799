import { type Kysely, sql } from 'kysely';
import type { Store, StoreSchema, StoreToken } from './contract.js';
import type { DB } from './schema.js';

/** Stores, their tokens and their registered payload schemas; idempotency-key housekeeping. */
export class SqlStores {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly lock?: (trx: import('kysely').Transaction<DB>, name: string) => Promise<void>,
  ) {}

  async createStore(store: Store, token: StoreToken): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('stores').values(store).execute();
      await trx.insertInto('store_tokens').values(token).execute();
    });
  }

  async createFirstStore(store: Store, token: StoreToken): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // SQLite's BEGIN IMMEDIATE already serializes writers; PostgreSQL takes a transaction lock
      await this.lock?.(trx, 'switchyard:first-store');
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

  async setStoreLimits(storeId: string, limits: string | null): Promise<boolean> {
    const res = await this.db
      .updateTable('stores')
      .set({ limits })
      .where('id', '=', storeId)
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

  /**
   * One statement, so that two writers at once (two hub processes) each get a version of their
   * own and neither fails on the first registration: a read, then an INSERT or UPDATE, gave both
   * the same version, or one of them a unique violation.
   */
  async putStoreSchema(schema: StoreSchema): Promise<StoreSchema> {
    return this.db
      .insertInto('store_schemas')
      .values({ ...schema, version: 1 })
      .onConflict((oc) =>
        oc.columns(['store_id', 'message']).doUpdateSet((eb) => ({
          schema: eb.ref('excluded.schema'),
          version: sql<number>`store_schemas.version + 1`,
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
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
}
