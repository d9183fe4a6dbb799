import type { Kysely, Transaction } from 'kysely';
import type { MessageRecord, QueueFilter } from './contract.js';
import type { WakeChannel } from './postgres/notifier.js';
import type { DB } from './schema.js';
import { filterMessages, messageById } from './sql-messages.js';

type Tx = Transaction<DB>;
const RETRYABLE = ['pending', 'failing', 'parked', 'scheduled'] as const;

/**
 * What a person does to accepted copies: retry now, archive by hand, edit a parked payload, and
 * the bulk forms over a listing filter. Retries notify other processes, so a worker anywhere
 * picks them up at once.
 */
export class SqlActions {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly notify: (trx: Tx, channel: WakeChannel) => Promise<void>,
  ) {}

  async retryMessage(
    storeId: string,
    id: string,
    now: number,
    payload?: string,
  ): Promise<MessageRecord | undefined> {
    const res = await this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('messages')
        .set({ state: 'pending', attempt_at: now, ...(payload !== undefined ? { payload } : {}) })
        .where('store_id', '=', storeId)
        .where('id', '=', id)
        .where('queue_name', '=', 'accepted')
        .where('state', 'in', payload !== undefined ? ['parked'] : [...RETRYABLE])
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) await this.notify(trx, 'accepted');
      return r;
    });
    if (Number(res.numUpdatedRows) === 0) return undefined;
    return messageById(this.db, storeId, id);
  }

  async archiveMessage(storeId: string, id: string, now: number): Promise<MessageRecord | undefined> {
    const done = await this.db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('messages')
        .set(archivedByHand(now))
        .where('store_id', '=', storeId)
        .where('id', '=', id)
        .where('queue_name', '=', 'accepted')
        .where('state', 'in', [...RETRYABLE])
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      // archived without being delivered: its identifier key no longer stands for a delivery
      await trx.deleteFrom('identifier_keys').where('message_id', '=', id).execute();
      return true;
    });
    return done ? messageById(this.db, storeId, id) : undefined;
  }

  async retryMatching(storeId: string, filter: QueueFilter, now: number): Promise<number> {
    const ids = filterMessages(this.db, storeId, 'accepted', filter)
      .select('id')
      .where('state', 'in', [...RETRYABLE]);
    return this.db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('messages')
        .set({ state: 'pending', attempt_at: now })
        .where('id', 'in', ids)
        .where('state', 'in', [...RETRYABLE])
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) > 0) await this.notify(trx, 'accepted');
      return Number(res.numUpdatedRows);
    });
  }

  async archiveMatching(storeId: string, filter: QueueFilter, now: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await filterMessages(trx, storeId, 'accepted', filter)
        .select('id')
        .where('state', 'in', [...RETRYABLE])
        .execute();
      const ids = rows.map((r) => r.id);
      let n = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        // the ids were listed before their rows were locked: a copy leased meanwhile by another
        // process is skipped by the UPDATE, and its identifier key must stay with it
        const archived = await trx
          .updateTable('messages')
          .set(archivedByHand(now))
          .where('id', 'in', chunk)
          .where('state', 'in', [...RETRYABLE])
          .returning('id')
          .execute();
        n += archived.length;
        if (archived.length > 0)
          await trx
            .deleteFrom('identifier_keys')
            .where(
              'message_id',
              'in',
              archived.map((r) => r.id),
            )
            .execute();
      }
      return n;
    });
  }
}

function archivedByHand(now: number) {
  return {
    queue_name: 'archived' as const,
    source: 'accepted' as const,
    state: 'never_processed' as const,
    reason: 'archived by hand',
    completed_at: now,
    lease_owner: null,
    lease_expires_at: null,
    locked_at: null,
  };
}
