import { type Kysely, sql, type Transaction } from 'kysely';
import {
  type Integration,
  IntegrationNameTaken,
  type IntegrationService,
  type SignupWrites,
} from './integration-contract.js';
import { MappingChanged, MappingNameTaken } from './mapping-contract.js';
import type { DB } from './schema.js';
import { bumpVersion, fieldColumns, isUniqueViolation, toRow as mappingRow } from './sql-mappings.js';

/**
 * Integration queries, shared by both dialects (SqlStorage delegates here). Descriptor data
 * (services, error_messages, warnings) is JSON text, as mappings keep theirs. Every statement that
 * changes the store's mappings bumps `mapping_set_versions` in the same transaction, exactly as
 * sql-mappings.ts does, so routers in other processes see the change.
 */

type Row = DB['integrations'];
type Db = Kysely<DB> | Transaction<DB>;

function toRow(i: Integration): Row {
  return {
    id: i.id,
    store_id: i.store_id,
    name: i.name,
    url: i.url,
    token: i.token,
    category: i.category,
    status: i.status,
    display: i.display,
    description: i.description,
    icon_url: i.icon_url,
    help: i.help,
    services: JSON.stringify(i.services),
    error_messages: i.error_messages === null ? null : JSON.stringify(i.error_messages),
    warnings: JSON.stringify(i.warnings),
    refreshed_at: i.refreshed_at,
    created_at: i.created_at,
    updated_at: i.updated_at,
  };
}

function fromRow(r: Row): Integration {
  return {
    id: r.id,
    store_id: r.store_id,
    name: r.name,
    url: r.url,
    token: r.token,
    category: r.category,
    status: r.status,
    display: r.display,
    description: r.description,
    icon_url: r.icon_url,
    help: r.help,
    services: JSON.parse(r.services) as IntegrationService[],
    error_messages: r.error_messages === null ? null : (JSON.parse(r.error_messages) as string[]),
    warnings: JSON.parse(r.warnings) as string[],
    refreshed_at: r.refreshed_at === null ? null : Number(r.refreshed_at),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

export async function listIntegrations(db: Db, storeId: string): Promise<Integration[]> {
  const rows = await db.selectFrom('integrations').selectAll().where('store_id', '=', storeId).execute();
  return rows.map(fromRow).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function getIntegration(
  db: Db,
  storeId: string,
  idOrName: string,
): Promise<Integration | undefined> {
  const row = await db
    .selectFrom('integrations')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
    .executeTakeFirst();
  return row && fromRow(row);
}

export async function createIntegration(db: Db, integration: Integration): Promise<Integration> {
  const row = toRow(integration);
  try {
    await db.insertInto('integrations').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new IntegrationNameTaken(integration.name);
    throw err;
  }
  return fromRow(row);
}

export async function updateIntegration(db: Db, integration: Integration): Promise<Integration | undefined> {
  const { id, store_id, name, created_at, ...changes } = toRow(integration);
  const res = await db
    .updateTable('integrations')
    .set(changes)
    .where('store_id', '=', store_id)
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return undefined;
  return getIntegration(db, store_id, id);
}

export async function deleteIntegration(db: Kysely<DB>, storeId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const owned = await trx
      .selectFrom('mappings')
      .select('id')
      .where('store_id', '=', storeId)
      .where('integration_id', '=', id)
      .execute();
    const ids = owned.map((m) => m.id);
    if (ids.length > 0) {
      await trx.deleteFrom('identifier_keys').where('mapping_id', 'in', ids).execute();
      await trx.deleteFrom('mappings').where('id', 'in', ids).execute();
      await bumpVersion(trx, storeId);
    }
    const res = await trx
      .deleteFrom('integrations')
      .where('store_id', '=', storeId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  });
}

export async function setIntegrationMappingsEnabled(
  db: Kysely<DB>,
  storeId: string,
  integrationId: string,
  enabled: boolean,
  now: number,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let q = trx
      .updateTable('mappings')
      .set({ enabled: enabled ? 1 : 0, updated_at: now, version: sql<number>`version + 1` })
      .where('store_id', '=', storeId)
      .where('integration_id', '=', integrationId)
      .where('enabled', '=', enabled ? 0 : 1);
    // a required mapping cannot be disabled (docs/routing.md#decisions), not even all at once
    if (!enabled) q = q.where('required', '=', 0);
    const n = Number((await q.executeTakeFirst()).numUpdatedRows);
    if (n > 0) await bumpVersion(trx, storeId);
    return n;
  });
}

/** IntegrationStorage.applySignup: every write of a sign-up in one transaction. */
export async function applySignup(
  db: Kysely<DB>,
  storeId: string,
  integrationId: string,
  writes: SignupWrites,
  now: number,
): Promise<void> {
  try {
    await db.transaction().execute(async (trx) => {
      for (const { parameter: p, onlyIfAbsent } of writes.parameters) {
        await trx
          .insertInto('parameters')
          .values(p)
          .onConflict((oc) =>
            onlyIfAbsent
              ? oc.columns(['store_id', 'name']).doNothing()
              : oc
                  .columns(['store_id', 'name'])
                  .doUpdateSet({ value: p.value, data_type: p.data_type, updated_at: p.updated_at }),
          )
          .execute();
      }
      for (const m of writes.mappings) {
        if ('create' in m) {
          await trx
            .insertInto('mappings')
            .values(mappingRow({ ...m.create, version: 1 }))
            .execute();
          continue;
        }
        const res = await trx
          .updateTable('mappings')
          .set({
            ...fieldColumns(m.fields),
            ...(m.adopt ? { integration_id: integrationId } : {}),
            updated_at: now,
            version: sql<number>`version + 1`,
          })
          .where('store_id', '=', storeId)
          .where('id', '=', m.id)
          .where('version', '=', m.expectedVersion)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw new MappingChanged(m.id);
      }
      if (writes.mappings.length > 0) await bumpVersion(trx, storeId);
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      const created = writes.mappings.find((m) => 'create' in m);
      throw new MappingNameTaken(created && 'create' in created ? created.create.name : '');
    }
    throw err;
  }
}
