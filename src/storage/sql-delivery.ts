import { type CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import { newId } from '../ids.js';
import type { NewIncoming } from './contract.js';
import type { AttemptRecord, LeasedMessage, NotificationRecord, Settlement } from './delivery-contract.js';
import type { Dialect } from './dialect.js';
import { GroupCommitter } from './group-commit.js';
import type { WakeChannel } from './postgres/notifier.js';
import type { DB } from './schema.js';
import { attemptQuery, attemptsBatchQuery, settleBatchQueries, settleQuery } from './settle-statements.js';
import { incomingRow, MESSAGE_COLUMNS, payloadOf } from './sql-messages.js';

type Tx = Transaction<DB>;
const _RETRYABLE = ['pending', 'failing', 'parked', 'scheduled'] as const;

/**
 * The rows of the accepted queue that may be leased once their attempt_at has come: the WHERE of
 * the partial indexes messages_accepted_work and messages_due_mapping, written as they are so the
 * planners use them.
 */
const dueState = (alias = '') => {
  const a = alias ? `${alias}.` : '';
  return sql.raw(`${a}queue_name = 'accepted' AND ${a}state IN ('pending', 'failing', 'scheduled')`);
};
const DUE = dueState('m');

/**
 * A refusal of the settlement's own content: trying again cannot help. PostgreSQL: data
 * exceptions (22…), integrity violations (23…), program limits (54…, too many parameters);
 * SQLite: constraints, a value too big or of the wrong type, too many variables.
 */
function refusesContent(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^(22|23|54)[0-9A-Z]{3}$/.test(code)) return true;
  if (/^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH|RANGE)/.test(code)) return true;
  return code === 'SQLITE_ERROR' && typeof e.message === 'string' && /too many SQL variables/.test(e.message);
}

/** Rows a multi-row INSERT of reply messages carries (each binds ~25 parameters). */
const CHILD_ROWS_PER_INSERT = 500;

/** A copy whose ordering key has an earlier copy still in the accepted queue waits for it. */
const inOrder = (alias: string) =>
  sql.raw(`(${alias}.ordering_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM messages o
    WHERE o.mapping_id = ${alias}.mapping_id AND o.ordering_key = ${alias}.ordering_key
      AND o.queue_name = 'accepted' AND o.id < ${alias}.id))`);

/**
 * Delivery queries, shared by both dialects except the lease, which is one statement each:
 * SQLite has one writer, so UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING is already atomic;
 * PostgreSQL claims the rows with FOR UPDATE SKIP LOCKED in a CTE so concurrent workers in other
 * processes take disjoint batches without waiting on each other.
 */
export class SqlDelivery {
  private readonly settles: GroupCommitter<Settlement, boolean>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    private readonly notify: (trx: Tx, channel: WakeChannel) => Promise<void>,
  ) {
    // settlements wait up to 2 ms for company: nothing waits on them but the next lease
    this.settles = new GroupCommitter((batch) => this.commitSettlements(batch), 500, 2);
  }

  async leaseDeliveries(
    lease: string,
    limit: number,
    now: number,
    leaseMs: number,
    exclude: readonly string[],
  ) {
    const skipping = exclude.length > 0;
    const oldestDue = sql`
      SELECT m.id FROM messages m
      WHERE ${DUE} AND m.attempt_at <= ${now} AND ${inOrder('m')}
      ORDER BY m.attempt_at
      LIMIT ${limit}`;
    const candidates = skipping ? this.candidatesSkipping(limit, now, exclude) : oldestDue;
    // Most lease calls at a modest load find nothing (one per wake-up), and where a write that
    // finds nothing is dear (Dialect.lookBeforeWrite) look first. (A lease that skips mappings is
    // rate-limited by the engine and its search is its own look.)
    if (this.dialect.lookBeforeWrite && !skipping) {
      const any = await sql<{ one: number }>`SELECT 1 AS one FROM messages m
        WHERE ${DUE} AND m.attempt_at <= ${now} LIMIT 1`.execute(this.db);
      if (any.rows.length === 0) return [];
    }
    const set = sql`state = 'running', lease_owner = ${lease}, lease_expires_at = ${now + leaseMs}, locked_at = ${now}`;
    // a copy's payload is its parent's (sql-messages.ts): looked up in the statement, one
    // primary-key lookup a row, rather than by a second statement
    const returning = sql.join(
      [...MESSAGE_COLUMNS, 'lease_owner', 'lease_expires_at', 'ordering_key', 'update_url'].map((c) =>
        c === 'payload' ? sql`${payloadOf('messages')} AS payload` : sql.ref(`messages.${c}`),
      ),
    );
    // With row locks (PostgreSQL) the plain lease locks as it scans, so a locked row is skipped and
    // the limit filled from the next ones. The skipping lease's candidates come from a search without locks
    // (FOR UPDATE does not go through its recursive query), so they are locked afterwards, with
    // the due test repeated on rows that may have been leased or settled since.
    const claim = skipping
      ? sql`SELECT m.id FROM messages m WHERE m.id IN (${candidates}) AND ${DUE} AND m.attempt_at <= ${now}`
      : oldestDue;
    const query = this.dialect.rowLocks
      ? sql<LeasedMessage>`WITH c AS (${claim} FOR UPDATE OF m SKIP LOCKED)
          UPDATE messages SET ${set} FROM c WHERE messages.id = c.id RETURNING ${returning}`
      : sql<LeasedMessage>`UPDATE messages SET ${set} WHERE id IN (${candidates}) RETURNING ${returning}`;
    const { rows } = await query.execute(this.db);
    return rows.sort((a, b) => (a.attempt_at ?? 0) - (b.attempt_at ?? 0));
  }

  /**
   * Candidates for a lease that skips the mappings in `exclude` (their lanes are saturated).
   * Searching messages_accepted_work in due order would walk past every due copy of the skipped
   * mappings first, on the event loop: 35 ms for a 200,000-copy backlog in isolation, ~100 ms per
   * 100,000 in a loaded hub, and longer the larger it grows. Instead: find the mappings that have
   * copies in a due state by a loose scan of messages_due_mapping (a recursive query, one index
   * seek per mapping), and take up to `limit` of the oldest due copies of each mapping not
   * skipped (one seek each), oldest first overall: 0.3 ms for the same backlog in isolation.
   */
  private candidatesSkipping(limit: number, now: number, exclude: readonly string[]) {
    const skipped = sql.join(exclude.map((e) => sql`${e}`));
    // messages_mapping (mapping_id, id) would serve these seeks as well, walking archived copies
    const due = this.dialect.indexed('messages', 'messages_due_mapping');
    const mappings = sql`maps(id) AS (
        SELECT (SELECT mapping_id FROM ${due} WHERE ${dueState()} AND mapping_id > '' ORDER BY mapping_id LIMIT 1)
        UNION ALL
        SELECT (SELECT mapping_id FROM ${due} WHERE ${dueState()} AND mapping_id > maps.id ORDER BY mapping_id LIMIT 1)
        FROM maps WHERE maps.id IS NOT NULL)`;
    const perMapping = this.dialect.dueCopiesPerMapping(
      (a) => sql`${dueState(a)} AND ${sql.raw(a)}.attempt_at <= ${now} AND ${inOrder(a)}`,
      limit,
    );
    return sql`
        WITH RECURSIVE ${mappings}
        SELECT c.id FROM ${perMapping}
        WHERE maps.id IS NOT NULL AND maps.id NOT IN (${skipped})
        ORDER BY c.attempt_at LIMIT ${limit}`;
  }

  async renewLeases(leases: readonly string[], until: number): Promise<number> {
    if (leases.length === 0) return 0;
    const res = await this.db
      .updateTable('messages')
      .set({ lease_expires_at: until })
      .where('lease_owner', 'in', [...leases])
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  settle(settlement: Settlement): Promise<boolean> {
    return this.settles.submit(settlement);
  }

  async drain(): Promise<void> {
    await this.settles.drain();
  }

  private async commitSettlements(batch: Settlement[]): Promise<boolean[]> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (this.dialect.batchSettlements) return this.applySettlementsBatched(trx, batch);
        const results: boolean[] = [];
        for (const s of batch) results.push(await this.applySettlement(trx, s));
        return results;
      });
    } catch (err) {
      // One settlement whose content the database refuses (a reply it cannot store) must not
      // take the others of its group down with it: they were rolled back together. Each is then
      // written on its own; one refused for its content is parked with the reason, for a person
      // to look at; one that fails for any other reason (a connection lost, a deadlock, a busy
      // database) is tried once more and then left to its lease's expiry, to be delivered again
      // as after a crash. Never parked for the database's own trouble.
      const results: boolean[] = [];
      for (const s of batch) results.push(await this.settleAlone(s, batch.length === 1 ? err : undefined));
      return results;
    }
  }

  /** See commitSettlements; `failed` is the error of a first try, when there was one. Never throws. */
  private async settleAlone(s: Settlement, failed?: unknown): Promise<boolean> {
    let err = failed;
    for (let attempt = failed === undefined ? 1 : 2; ; attempt++) {
      if (err !== undefined) {
        if (refusesContent(err)) return this.parkUnwritable(s, err);
        if (attempt > 2) return false;
      }
      try {
        return await this.db.transaction().execute((trx) => this.applySettlement(trx, s));
      } catch (e) {
        err = e;
      }
    }
  }

  /**
   * A settlement the database refused for its content, written as a parked copy without the
   * reply's messages, notifications and parameters, so that it is neither lost nor delivered
   * again and again. If even that fails (or it was a release), false: the lease expires.
   */
  private async parkUnwritable(s: Settlement, err: unknown): Promise<boolean> {
    if (s.outcome.kind === 'released') return false;
    const reason = `the endpoint's reply could not be stored: ${(err as Error).message ?? String(err)}`.slice(
      0,
      1000,
    );
    const parked: Settlement = {
      ...s,
      outcome: { kind: 'parked', last_error: reason, reason },
      children: [],
      notifications: [],
      parameters: [],
    };
    try {
      return await this.db.transaction().execute((trx) => this.applySettlement(trx, parked));
    } catch {
      return false;
    }
  }

  /**
   * PostgreSQL: the plain settlements of a group (no reply messages, notifications or parameters,
   * which is nearly all of them) in one UPDATE per outcome shape and one INSERT of their attempt
   * rows — a few round trips for the group instead of two per delivery; the rest one by one, after.
   * A message settled twice in one group (never by the engine, which settles each lease once) takes
   * the one-by-one path for its later settlements, in order.
   */
  private async applySettlementsBatched(trx: Tx, batch: Settlement[]): Promise<boolean[]> {
    const results = new Array<boolean>(batch.length).fill(false);
    const plain: number[] = [];
    const seen = new Set<string>();
    for (const [i, s] of batch.entries()) {
      const simple = s.children.length === 0 && s.notifications.length === 0 && s.parameters.length === 0;
      if (simple && !seen.has(s.id)) plain.push(i);
      seen.add(s.id);
    }
    const settled = new Set<string>();
    for (const query of settleBatchQueries(plain.map((i) => batch[i]!))) {
      for (const row of (await trx.executeQuery(query)).rows) settled.add(row.id);
    }
    const attempts: NonNullable<Settlement['attempt']>[] = [];
    for (const i of plain) {
      const s = batch[i]!;
      results[i] = settled.has(s.id);
      if (results[i] && s.attempt) attempts.push(s.attempt);
    }
    if (attempts.length > 0) await trx.executeQuery(attemptsBatchQuery(attempts));
    const batchedAt = new Set(plain);
    for (const [i, s] of batch.entries()) {
      if (!batchedAt.has(i)) results[i] = await this.applySettlement(trx, s);
    }
    return results;
  }

  /** Runs a write in the open transaction: at once where the dialect can (runWrite), else through Kysely. */
  private write(trx: Tx, query: CompiledQuery): number | Promise<number> {
    if (this.dialect.runWrite) return this.dialect.runWrite(query);
    return trx.executeQuery(query).then((res) => Number(res.numAffectedRows ?? 0n));
  }

  private async applySettlement(trx: Tx, s: Settlement): Promise<boolean> {
    // a number comes back at once (SQLite): no promise turn to wait for
    const changed = this.write(trx, settleQuery(this.dialect, s));
    if ((typeof changed === 'number' ? changed : await changed) === 0) return false;
    if (s.attempt) {
      const added = this.write(trx, attemptQuery(this.dialect, s.attempt));
      if (typeof added !== 'number') await added;
    }
    if (s.children.length === 0 && s.notifications.length === 0 && s.parameters.length === 0) return true;

    // A child that cannot be routed (bad entry, loop) is archived as invalid at once: kept, not dropped.
    const row = (c: NewIncoming & { invalid?: string }) =>
      c.invalid
        ? {
            ...incomingRow(c),
            queue_name: 'archived' as const,
            source: 'incoming' as const,
            state: 'invalid' as const,
            reason: c.invalid,
            completed_at: s.now,
          }
        : incomingRow(c);
    const children = s.children.map(row);
    for (const n of s.notifications) {
      const fresh = await this.recordNotification(trx, n.record);
      if (fresh) children.push(row(n.message));
    }
    // in chunks: one statement's parameters are bounded (SQLite 32,766, PostgreSQL 65,535), and
    // a reply may carry thousands of messages (a poll endpoint answering with a day's orders)
    for (let i = 0; i < children.length; i += CHILD_ROWS_PER_INSERT)
      await trx
        .insertInto('messages')
        .values(children.slice(i, i + CHILD_ROWS_PER_INSERT))
        .execute();
    if (children.some((c) => c.queue_name === 'incoming')) await this.notify(trx, 'incoming');
    await this.recordTypes(trx, children);
    // by name, so that two processes storing the same parameters lock them in one order
    const parameters = [...s.parameters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const p of parameters) await this.upsertParameter(trx, s.store_id, p, s.now);
    return true;
  }

  /** True when this notification is new to the message (and so is emitted as a message once). */
  private async recordNotification(trx: Tx, n: NotificationRecord): Promise<boolean> {
    const bumped = await trx
      .updateTable('notifications')
      .set({ occurrences: sql<number>`occurrences + 1`, last_update: n.last_update })
      .where('message_id', '=', n.message_id)
      .where('fingerprint', '=', n.fingerprint)
      .executeTakeFirst();
    if (Number(bumped.numUpdatedRows) > 0) return false;
    await trx.insertInto('notifications').values(n).execute();
    return true;
  }

  private async recordTypes(trx: Tx, rows: { store_id: string; message: string }[]): Promise<void> {
    const seen = new Map(
      rows.map((r) => [`${r.store_id}\u0000${r.message}`, { store_id: r.store_id, message: r.message }]),
    );
    if (seen.size === 0) return;
    // sorted, so that two processes recording the same types take their locks in one order
    const values = [...seen.keys()].sort().map((k) => seen.get(k)!);
    for (let i = 0; i < values.length; i += 1000)
      await trx
        .insertInto('message_types_seen')
        .values(values.slice(i, i + 1000))
        .onConflict((oc) => oc.columns(['store_id', 'message']).doNothing())
        .execute();
  }

  private async upsertParameter(trx: Tx, storeId: string, p: Settlement['parameters'][number], now: number) {
    await trx
      .insertInto('parameters')
      .values({
        id: newId(),
        store_id: storeId,
        name: p.name,
        value: p.value,
        data_type: p.data_type,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(['store_id', 'name'])
          .doUpdateSet({ value: p.value, data_type: p.data_type, updated_at: now }),
      )
      .execute();
  }

  async sweepLeases(now: number, all = false): Promise<number> {
    const res = await this.db
      .updateTable('messages')
      .set({ state: 'pending', lease_owner: null, lease_expires_at: null, locked_at: null, attempt_at: now })
      .where('state', '=', 'running')
      .where('lease_expires_at', '<', all ? Number.MAX_SAFE_INTEGER : now)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async attemptsFor(messageId: string): Promise<AttemptRecord[]> {
    return this.db
      .selectFrom('attempts')
      .selectAll()
      .where('message_id', '=', messageId)
      .orderBy('attempted_at')
      .execute();
  }

  async notificationsFor(messageId: string): Promise<NotificationRecord[]> {
    return this.db
      .selectFrom('notifications')
      .selectAll()
      .where('message_id', '=', messageId)
      .orderBy('logged_on')
      .execute();
  }
}
