import type { CompiledQuery, Kysely, RawBuilder, Transaction } from 'kysely';
import type { WakeChannel } from './postgres/notifier.js';
import type { DB } from './schema.js';
import type { SqlReader } from './sql-reads.js';

export type DialectName = 'sqlite' | 'postgres';

type Tx = Transaction<DB>;
type MessageRow = DB['messages'];

/**
 * Everything that differs between the two databases, in one object each adapter builds
 * (sqlite/open.ts, postgres/open.ts) and the shared SQL implementation reads. The shared code
 * asks what a database can do (`rowLocks`, `lookBeforeWrite` …), never which one it is; `name`
 * is for messages and /readyz only. Adding a third adapter means filling in this interface.
 * docs/design.md#what-an-adapter-provides says what each adapter provides and why.
 */
export interface Dialect {
  readonly name: DialectName;

  // ---- facts ----------------------------------------------------------------------------------

  /**
   * `true` when one hub process owns the database (SQLite). Such a hub knows that a lease found at
   * start-up was left by a dead process, that nothing older than a push waits unseen in another
   * process, and that its own mapping changes are the only ones: see docs/design.md#leases.
   */
  readonly singleProcess: boolean;
  /**
   * How intake claims incoming work:
   * - `select-then-apply` (one process, one intake worker) reads the batch, lets the router
   *   decide with no transaction open, then applies the decisions in one transaction whose updates
   *   are guarded by `queue_name = 'incoming'`;
   * - `lock-in-transaction` (many processes) opens the transaction first and claims the batch with
   *   FOR UPDATE SKIP LOCKED, so two processes never route the same message.
   */
  readonly intakeMode: 'select-then-apply' | 'lock-in-transaction';
  /** Column type of epoch-millisecond times in the migrations (migration-list.ts). */
  readonly timeType: 'INTEGER' | 'BIGINT';
  /** Largest number of rows in one multi-row INSERT (bound-parameter limits differ). */
  readonly insertChunk: number;
  /** The bound-parameter mark for the n-th parameter (1-based) in hand-written SQL text. */
  parameter(n: number): string;
  /**
   * Claims lock the rows they take with FOR UPDATE SKIP LOCKED, so processes claiming at once take
   * disjoint sets. Without it (one writer) an UPDATE … WHERE id IN (SELECT …) is atomic as it is.
   */
  readonly rowLocks: boolean;
  /**
   * A write transaction that finds nothing still costs far more than a read (SQLite takes the
   * write lock: ~100 µs against ~4 µs on the 2-core VM), so frequent claims look first.
   */
  readonly lookBeforeWrite: boolean;
  /**
   * Every statement is a network round trip, so a group commit's settlements are written a few
   * multi-row statements at a time (settle-statements.ts) instead of one statement each.
   */
  readonly batchSettlements: boolean;
  /**
   * `table` read through `index`: SQLite never runs ANALYZE here and may pick a worse index, so
   * the index is named (an error, not a slow plan, if it ever stops matching); PostgreSQL's
   * planner is left to choose.
   */
  indexed(table: string, index: string): RawBuilder<unknown>;
  /**
   * The oldest `limit` due copies of each mapping in the CTE `maps(id)`, as one query's rows:
   * PostgreSQL seeks each with a LATERAL join, SQLite (no LATERAL) with a correlated rowid list.
   * `due` is the due condition on the alias given.
   */
  dueCopiesPerMapping(due: (alias: string) => RawBuilder<unknown>, limit: number): RawBuilder<unknown>;

  // ---- hooks ----------------------------------------------------------------------------------

  /** A faster way to insert message rows inside an open transaction (SQLite: a prepared statement). */
  readonly insertMessageRows?: (rows: readonly MessageRow[]) => void;
  /** Runs a write inside an open transaction at once, answering the rows changed (SQLite). */
  readonly runWrite?: (query: CompiledQuery) => number;
  /**
   * Writes that resolve at COMMIT, before the disk sync, and that sync (SQLite with its WAL
   * syncer): a push batch commits through it, hands its copies to the delivery engine, and only
   * then waits for the sync before its pushes are answered. Without it (PostgreSQL, whose COMMIT
   * is durable; SQLite with `--sqlite-sync normal`) the one connection does both. Once a sync has
   * failed, `db` refuses every transaction (nothing more is handed on).
   */
  readonly early?: { db: Kysely<DB>; durable: () => Promise<void> };
  /**
   * Where listings and counts run (sql-reads.ts). SQLite: a connection in a worker thread, so a
   * long scan leaves the event loop free; `together` runs reads in one read transaction there, so
   * a listing's page and its total agree. Without it (PostgreSQL, whose pool is already
   * asynchronous) they run on `db`, two that must agree in one REPEATABLE READ transaction.
   */
  readonly reader?: SqlReader;
  /** Reports disk sync durations (SQLite: the WAL syncer). */
  readonly observeSyncs?: (observe: (seconds: number) => void) => void;
  /** Serialize a rare one-off action across processes until the transaction ends (PostgreSQL). */
  readonly lock?: (trx: Tx, name: string) => Promise<void>;
  /** Tell other processes, at commit, that a queue has new work (PostgreSQL: pg_notify). */
  readonly notify?: (trx: Tx, channel: WakeChannel) => Promise<void>;
  /** Listen for other processes' notifications; returns a stop function. */
  readonly listen?: (
    onWake: (channel: WakeChannel) => void,
    onError: (err: Error) => void,
  ) => () => Promise<void>;
  /** Releases what the adapter holds besides the Kysely instances (threads, files). */
  close(): Promise<void>;
}
