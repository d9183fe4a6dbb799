import { type Kysely, sql } from 'kysely';
import type { ChildSummary, MessageRecord, Page, QueueCounts, QueueFilter, QueueName } from './contract.js';
import type { DB } from './schema.js';
import { filterMessages, MESSAGE_SELECTION, messageById } from './sql-messages.js';

/** Listings count matching rows exactly up to this many. */
export const COUNT_CAP = 10_000;

/** What the queue and message APIs read: details, children, listings, counts, types seen. */
export class SqlReads {
  constructor(private readonly db: Kysely<DB>) {}

  getMessage(storeId: string, id: string): Promise<MessageRecord | undefined> {
    return messageById(this.db, storeId, id);
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
        .select(MESSAGE_SELECTION)
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
}
