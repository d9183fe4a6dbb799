import { type CompiledQuery, type Kysely, sql } from 'kysely';
import type { ArchiveCounts } from './archive-counts.js';
import type {
  ChildSummary,
  MessageRecord,
  Page,
  QueueCounts,
  QueueEntry,
  QueueFilter,
  QueueName,
} from './contract.js';
import type { NotificationFilter, NotificationRecord } from './delivery-contract.js';
import type { DB } from './schema.js';
import { filterMessages, messageById, QUEUE_ENTRY_COLUMNS } from './sql-messages.js';

/** A connection apart for listings and counts (SQLite's reader thread; Dialect.reader). */
export interface SqlReader {
  db: Kysely<DB>;
  /** Runs the queries in one read transaction: their rows agree with each other. */
  together(queries: readonly CompiledQuery[]): Promise<unknown[][]>;
}

/** Listings count matching rows exactly up to this many. */
export const COUNT_CAP = 10_000;

/**
 * What the queue, message and notification APIs read: details, children, listings, counts, types
 * seen. Listings and counts may scan many rows; they run on `reader` (SQLite: a connection in a
 * worker thread, sqlite/reader.ts, so a scan never stalls the event loop); point lookups stay on
 * `db`.
 */
export class SqlReads {
  private readonly reader: Kysely<DB>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly separate: SqlReader | undefined,
    private readonly archiveCounts: ArchiveCounts,
  ) {
    this.reader = separate?.db ?? db;
  }

  /**
   * Two reads in one snapshot, so that their figures agree: a message that moves meanwhile is in
   * both or in neither. SQLite: one read transaction on the reader thread. PostgreSQL: one
   * REPEATABLE READ transaction, whose snapshot is taken at its first statement (READ COMMITTED
   * takes one per statement: two reads side by side on two pool connections counted a message
   * moving between them twice, or not at all). It costs the two reads running one after the other
   * on one connection instead of side by side.
   */
  private async together<A, B>(a: CompiledQuery<A>, b: CompiledQuery<B>): Promise<[A[], B[]]> {
    if (this.separate) {
      const [rowsA, rowsB] = await this.separate.together([a, b]);
      return [rowsA as A[], rowsB as B[]];
    }
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const ra = await trx.executeQuery(a);
        const rb = await trx.executeQuery(b);
        return [ra.rows, rb.rows];
      });
  }

  getMessage(storeId: string, id: string): Promise<MessageRecord | undefined> {
    return messageById(this.db, storeId, id);
  }

  async children(storeId: string, parentId: string): Promise<ChildSummary[]> {
    return this.db
      .selectFrom('messages')
      .select(['id', 'message', 'state', 'queue_name', 'mapping_id', 'consumer'])
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
  ): Promise<{ items: QueueEntry[]; total: number; capped: boolean }> {
    const q = filterMessages(this.reader, storeId, queue, filter);
    // Counting a million archived rows costs more than the page itself, so the count stops at
    // COUNT_CAP + 1 rows: exact below the cap, "at least COUNT_CAP" above it.
    const limited = q
      .select(sql<number>`1`.as('one'))
      .limit(COUNT_CAP + 1)
      .as('limited');
    // the page and its total from one snapshot: a message archived meanwhile is in both or neither
    const [items, counted] = await this.together(
      // no payload: a copy's would cost a lookup of its parent's row, and a page of large ones
      // megabytes through the reader thread, for a queue item that shows none
      q
        .select(QUEUE_ENTRY_COLUMNS)
        .orderBy('id', 'desc')
        .limit(page.per_page)
        .offset((page.page - 1) * page.per_page)
        .compile(),
      this.reader
        .selectFrom(limited)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .compile(),
    );
    const n = Number(counted[0]?.n ?? 0);
    return { items, total: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP };
  }

  async queueCounts(storeId: string): Promise<QueueCounts> {
    const byState = this.reader
      .selectFrom('messages')
      .select(['queue_name', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('store_id', '=', storeId)
      .where('queue_name', 'in', ['incoming', 'accepted'])
      .groupBy(['queue_name', 'state'])
      .compile();
    // The work queues are counted on every call. The archive is counted with them, in one
    // snapshot, unless a large archive's count was made a moment ago or is under way
    // (archive-counts.ts): then its figure is that count's, and a message archived since is in
    // neither figure until the next count.
    let rows: { queue_name: string; state: string; n: number }[];
    let archived: number;
    const reused = this.archiveCounts.reusable(storeId, performance.now());
    if (reused === undefined) {
      const startedAt = performance.now();
      const both = this.together(
        byState,
        this.reader
          .selectFrom('messages')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('store_id', '=', storeId)
          .where('queue_name', '=', 'archived')
          .compile(),
      );
      const counted = this.archiveCounts.counting(
        storeId,
        both.then(([, total]) => Number(total[0]?.n ?? 0)),
        startedAt,
        () => performance.now(),
      );
      [[rows], archived] = await Promise.all([both, counted]);
    } else {
      [{ rows }, archived] = await Promise.all([this.reader.executeQuery(byState), reused]);
    }
    const counts: QueueCounts = {
      incoming: 0,
      pending: 0,
      running: 0,
      failing: 0,
      scheduled: 0,
      parked: 0,
      archived,
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

  async listNotifications(storeId: string, f: NotificationFilter, page: Page) {
    let q = this.reader.selectFrom('notifications').where('store_id', '=', storeId);
    if (f.level) q = q.where('level', '=', f.level as NotificationRecord['level']);
    if (f.reference_type) q = q.where('reference_type', '=', f.reference_type);
    // the original's client lower-cased reference tokens; compare without case
    if (f.reference_token) q = q.where(sql`lower(reference_token)`, '=', f.reference_token.toLowerCase());
    if (f.message_id) q = q.where('message_id', '=', f.message_id);
    const [items, counted] = await this.together(
      q
        .selectAll()
        .orderBy('id', 'desc')
        .limit(page.per_page)
        .offset((page.page - 1) * page.per_page)
        .compile(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).compile(),
    );
    return { items, total: Number(counted[0]?.n ?? 0) };
  }
}
