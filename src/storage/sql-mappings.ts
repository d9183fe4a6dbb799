import { type Kysely, sql, type Transaction } from 'kysely';
import type { FilterSpec } from './mapping-contract.js';
import {
  type Mapping,
  MappingChanged,
  type MappingFields,
  MappingNameTaken,
  type MappingOptions,
} from './mapping-contract.js';
import type { DB } from './schema.js';

/**
 * Mapping queries, shared by both dialects (SqlStorage delegates here). JSON-shaped fields are
 * stored as text and flags as 0/1 in both dialects, so there is one code path and no dialect
 * conversion. Every write also bumps the store's row in `mapping_set_versions` in the same
 * transaction: that counter is how routers in other processes notice a change (a deleted mapping
 * leaves no row behind whose `updated_at` could tell them).
 */

type Row = DB['mappings'];
type Db = Kysely<DB> | Transaction<DB>;

export function toRow(m: Mapping): Row {
  return {
    id: m.id,
    store_id: m.store_id,
    integration_id: m.integration_id,
    created_at: m.created_at,
    updated_at: m.updated_at,
    version: m.version,
    ...fieldColumns(m),
  };
}

export function fieldColumns(f: MappingFields) {
  return {
    name: f.name,
    url: f.url,
    token: f.token,
    messages: JSON.stringify(f.messages),
    filters: JSON.stringify(f.filters),
    identifiers: JSON.stringify(f.identifiers),
    parameters: f.parameters === null ? null : JSON.stringify(f.parameters),
    options: JSON.stringify(f.options),
    enabled: f.enabled ? 1 : 0,
    required: f.required ? 1 : 0,
  };
}

function fromRow(r: Row): Mapping {
  return {
    id: r.id,
    store_id: r.store_id,
    name: r.name,
    url: r.url,
    token: r.token,
    messages: JSON.parse(r.messages) as string[],
    filters: JSON.parse(r.filters) as FilterSpec[],
    identifiers: JSON.parse(r.identifiers) as Record<string, string>,
    parameters: r.parameters === null ? null : (JSON.parse(r.parameters) as string[]),
    options: JSON.parse(r.options) as MappingOptions,
    enabled: Number(r.enabled) === 1,
    required: Number(r.required) === 1,
    integration_id: r.integration_id,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    version: Number(r.version),
  };
}

/** SQLite reports SQLITE_CONSTRAINT_UNIQUE, PostgreSQL SQLSTATE 23505 (unique_violation). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** Bumped in the same transaction as every mapping write, by this module and by integrations. */
export async function bumpVersion(trx: Transaction<DB>, storeId: string): Promise<void> {
  await trx
    .insertInto('mapping_set_versions')
    .values({ store_id: storeId, version: 1 })
    .onConflict((oc) =>
      oc.column('store_id').doUpdateSet({ version: sql<number>`mapping_set_versions.version + 1` }),
    )
    .execute();
}

export async function listMappings(db: Db, storeId: string): Promise<Mapping[]> {
  const rows = await db.selectFrom('mappings').selectAll().where('store_id', '=', storeId).execute();
  // Sorted here, not in SQL: PostgreSQL's collation and SQLite's byte order disagree (`_` vs `.`),
  // and the order must not depend on the backend.
  return rows.map(fromRow).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function getMapping(db: Db, storeId: string, id: string): Promise<Mapping | undefined> {
  const row = await db
    .selectFrom('mappings')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && fromRow(row);
}

export async function findMappingByName(db: Db, storeId: string, name: string): Promise<Mapping | undefined> {
  const row = await db
    .selectFrom('mappings')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row && fromRow(row);
}

export async function createMapping(db: Kysely<DB>, mapping: Mapping): Promise<Mapping> {
  const row = toRow({ ...mapping, version: 1 });
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('mappings').values(row).execute();
      await bumpVersion(trx, mapping.store_id);
    });
  } catch (err) {
    // The route checks the name first; this catches the race between two concurrent creates.
    if (isUniqueViolation(err)) throw new MappingNameTaken(mapping.name);
    throw err;
  }
  return fromRow(row);
}

export async function updateMapping(
  db: Kysely<DB>,
  storeId: string,
  id: string,
  fields: MappingFields,
  now: number,
  expectedVersion?: number,
): Promise<Mapping | undefined> {
  try {
    return await db.transaction().execute(async (trx) => {
      let update = trx
        .updateTable('mappings')
        .set({ ...fieldColumns(fields), updated_at: now, version: sql<number>`version + 1` })
        .where('store_id', '=', storeId)
        .where('id', '=', id);
      if (expectedVersion !== undefined) update = update.where('version', '=', expectedVersion);
      const res = await update.executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) {
        if (expectedVersion !== undefined && (await getMapping(trx, storeId, id)))
          throw new MappingChanged(id);
        return undefined;
      }
      await bumpVersion(trx, storeId);
      return getMapping(trx, storeId, id);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new MappingNameTaken(fields.name);
    throw err;
  }
}

export async function deleteMapping(db: Kysely<DB>, storeId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const res = await trx
      .deleteFrom('mappings')
      .where('store_id', '=', storeId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) return false;
    // identifier_keys has no foreign key (it is on the intake hot path); clean up by hand.
    await trx.deleteFrom('identifier_keys').where('mapping_id', '=', id).execute();
    await bumpVersion(trx, storeId);
    return true;
  });
}

export async function mappingsVersion(db: Db, storeId: string): Promise<number> {
  const row = await db
    .selectFrom('mapping_set_versions')
    .select('version')
    .where('store_id', '=', storeId)
    .executeTakeFirst();
  return row ? Number(row.version) : 0;
}

export async function identifierKeyHeld(
  db: Db,
  mappingId: string,
  key: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('identifier_keys')
    .select('key')
    .where('mapping_id', '=', mappingId)
    .where('key', '=', key)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}
