import type { Kysely, Transaction } from 'kysely';
import { idFloor } from '../ids.js';
import type { DB } from './schema.js';
import { SHARED_PAYLOAD } from './sql-messages.js';

/**
 * Retention (docs/storage.md#retention): archived messages whose archiving is older than the cut-off go, with
 * their attempt rows and notifications, a bounded batch per call. Nothing in the incoming or accepted queue
 * is touched, however old — a parked copy waits for a person — and a message counts from when it was archived
 * (`completed_at`), not from when it arrived. A message whose copies share its payload stays until they have
 * gone.
 *
 * Candidates are found per store on the (store_id, queue_name, id) index: ids are UUIDv7, so a
 * message archived before the cut-off was also created before it and its id sorts below the cut-off
 * millisecond's smallest id. No index on the archive time is needed, and so none is paid for on
 * every message archived. Rows created long ago but archived recently are passed over, each call.
 */
export class SqlRetention {
  constructor(private readonly db: Kysely<DB>) {}

  async purgeArchived(before: number, limit: number): Promise<number> {
    const stores = await this.db.selectFrom('stores').select('id').orderBy('id').execute();
    let purged = 0;
    for (const { id: storeId } of stores) {
      if (purged >= limit) break;
      // found outside any transaction (on SQLite the one connection's write lock is not held
      // while it scans); the DELETE repeats the conditions, so a row that changed meanwhile stays
      const rows = await this.purgeable(this.db, before)
        .where('messages.store_id', '=', storeId)
        .where('messages.id', '<', idFloor(before))
        .orderBy('messages.id')
        .limit(limit - purged)
        .execute();
      const ids = rows.map((r) => r.id);
      if (ids.length === 0) continue;
      purged += await this.db.transaction().execute(async (trx) => {
        const gone = await this.purgeable(trx, before).where('messages.id', 'in', ids).execute();
        const doomed = gone.map((r) => r.id);
        if (doomed.length === 0) return 0;
        await trx.deleteFrom('attempts').where('message_id', 'in', doomed).execute();
        await trx.deleteFrom('notifications').where('message_id', 'in', doomed).execute();
        const res = await trx.deleteFrom('messages').where('id', 'in', doomed).executeTakeFirst();
        return Number(res.numDeletedRows);
      });
    }
    return purged;
  }

  /**
   * Archived before the cut-off, and no copy shares its payload (sql-messages.ts): such a parent
   * goes in a later round, after the copy — archived later than the parent — has gone itself.
   */
  private purgeable(db: Kysely<DB> | Transaction<DB>, before: number) {
    return db
      .selectFrom('messages')
      .select('messages.id')
      .where('messages.queue_name', '=', 'archived')
      .where('messages.completed_at', '<', before)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('messages as c')
              .select('c.id')
              .whereRef('c.parent_id', '=', 'messages.id')
              .where('c.payload', '=', SHARED_PAYLOAD),
          ),
        ),
      );
  }
}
