import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from './dialect.js';
import { type Scheduler, SchedulerNameTaken, type SchedulerTick } from './integration-contract.js';
import type { DB } from './schema.js';
import { incomingRow } from './sql-messages.js';

/**
 * Scheduler queries, shared by both dialects except one clause of the claim. Due time lives in the
 * database (`next_run_at`), so every hub process sharing it sees the same schedule, and a restart
 * neither forgets a tick nor repeats one.
 */

type Row = DB['schedulers'];
type Db = Kysely<DB> | Transaction<DB>;

function toRow(s: Scheduler): Row {
  return {
    id: s.id,
    store_id: s.store_id,
    name: s.name,
    key: s.key,
    interval_seconds: s.interval,
    cron: s.cron,
    payload: JSON.stringify(s.payload),
    enabled: s.enabled ? 1 : 0,
    next_run_at: s.next_run_at,
    last_run_at: s.last_run_at,
    created_at: s.created_at,
    updated_at: s.updated_at,
  };
}

const num = (v: number | null) => (v === null ? null : Number(v));

function fromRow(r: Row): Scheduler {
  return {
    id: r.id,
    store_id: r.store_id,
    name: r.name,
    key: r.key,
    interval: num(r.interval_seconds),
    cron: r.cron,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    enabled: Number(r.enabled) === 1,
    next_run_at: num(r.next_run_at),
    last_run_at: num(r.last_run_at),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

export async function listSchedulers(db: Db, storeId: string): Promise<Scheduler[]> {
  const rows = await db.selectFrom('schedulers').selectAll().where('store_id', '=', storeId).execute();
  return rows.map(fromRow).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function getScheduler(
  db: Db,
  storeId: string,
  idOrName: string,
): Promise<Scheduler | undefined> {
  const row = await db
    .selectFrom('schedulers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
    .executeTakeFirst();
  return row && fromRow(row);
}

export async function createScheduler(db: Db, scheduler: Scheduler): Promise<Scheduler> {
  const row = toRow(scheduler);
  try {
    await db.insertInto('schedulers').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new SchedulerNameTaken(scheduler.name);
    throw err;
  }
  return fromRow(row);
}

export async function updateScheduler(
  db: Db,
  scheduler: Scheduler,
  keepTiming = false,
): Promise<Scheduler | undefined> {
  const { id, store_id, created_at, last_run_at, next_run_at, ...changes } = toRow(scheduler);
  try {
    const res = await db
      .updateTable('schedulers')
      .set(keepTiming ? changes : { ...changes, next_run_at })
      .where('store_id', '=', store_id)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return undefined;
  } catch (err) {
    if (isUniqueViolation(err)) throw new SchedulerNameTaken(scheduler.name);
    throw err;
  }
  return getScheduler(db, store_id, id);
}

export async function deleteScheduler(db: Db, storeId: string, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom('schedulers')
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/**
 * The claim is one UPDATE … WHERE id IN (due ids) RETURNING. On SQLite the transaction already
 * holds the single write lock (BEGIN IMMEDIATE), so it is atomic as it is; on PostgreSQL the
 * subquery locks the rows FOR UPDATE SKIP LOCKED, so two processes claim disjoint sets and a row
 * one of them holds is not due any more once that transaction commits (next_run_at moved on).
 * The tick messages are inserted in the same transaction: a crash loses the tick and its
 * message together, and the next claim fires it, so a tick is neither lost nor doubled.
 */
export async function fireSchedulers(
  db: Kysely<DB>,
  dialect: Dialect,
  /** Called when ticks put messages in the incoming queue. */
  queued: () => void,
  now: number,
  limit: number,
  plan: (due: Scheduler[]) => SchedulerTick[],
): Promise<SchedulerTick[]> {
  const dueIds = (q: Kysely<DB>) =>
    q.selectFrom('schedulers').select('id').where('enabled', '=', 1).where('next_run_at', '<=', now);
  // Called four times a second and nearly always finds nothing: look before opening a write
  // transaction (on SQLite an empty one still takes the write lock, between two push commits).
  if ((await dueIds(db).limit(1).execute()).length === 0) return [];
  const ticks = await db.transaction().execute(async (trx) => {
    const due = dueIds(trx)
      .orderBy('next_run_at')
      .limit(limit)
      .$if(dialect.rowLocks, (q) => q.forUpdate().skipLocked());
    const claimed = await trx
      .updateTable('schedulers')
      .set({ last_run_at: now })
      .where('id', 'in', due)
      .returningAll()
      .execute();
    if (claimed.length === 0) return [];
    const ticks = plan(claimed.map(fromRow));
    for (const tick of ticks) {
      await trx
        .updateTable('schedulers')
        .set({ next_run_at: tick.next_run_at })
        .where('id', '=', tick.id)
        .execute();
    }
    const messages = ticks.flatMap((t) => (t.message ? [incomingRow(t.message)] : []));
    if (messages.length > 0) {
      await trx.insertInto('messages').values(messages).execute();
      const types = new Map(messages.map((m) => [`${m.store_id}\u0000${m.message}`, m]));
      await trx
        .insertInto('message_types_seen')
        .values([...types.values()].map((m) => ({ store_id: m.store_id, message: m.message })))
        .onConflict((oc) => oc.columns(['store_id', 'message']).doNothing())
        .execute();
    }
    return ticks;
  });
  if (ticks.some((t) => t.message)) queued();
  return ticks;
}
