import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';

/** What every SQLite dialect of the hub shares with Kysely's own: SQL, adapter, introspection. */
export abstract class SqliteDialectBase implements Dialect {
  abstract createDriver(): Driver;
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * Kysely's own SQLite driver prepares every statement anew and opens transactions with a
 * deferred BEGIN. This one keeps prepared statements (the hub runs the same few statements all
 * day) and begins with BEGIN IMMEDIATE, so a transaction holds the write lock from its first
 * statement and never fails half-way with SQLITE_BUSY when another process (the CLI) writes too.
 *
 * SQLite has one connection per process; a mutex hands it to one Kysely transaction at a time,
 * and single statements wait for an open transaction to finish instead of slipping into it.
 *
 * Durability: given a `sync` (wal-sync.ts), a call that wrote anything releases the connection
 * first — the next transaction may start at once — and then waits for a sync covering its
 * commit before it resolves. Callers never see a write as done before it is on disk.
 *
 * `unsynced()` gives a second dialect over the same connection and lock whose writes resolve at
 * COMMIT: for a caller that acts on its commit before making it durable, and then waits for the
 * sync itself (a push's copies are handed to the delivery engine at COMMIT; its 201 waits). Once
 * the syncer has failed for good, that twin refuses to start anything: what it committed would be
 * acted on and never made durable.
 */
export class CachingSqliteDialect extends SqliteDialectBase {
  private readonly core: SqliteCore;
  /** Whether destroying this dialect's Kysely closes the database (the unsynced twin's does not). */
  private readonly owner: boolean;

  constructor(
    db: BetterSqlite3.Database,
    private readonly sync?: () => Promise<void>,
    core?: SqliteCore,
    private readonly refusal?: () => Error | undefined,
  ) {
    super();
    this.core = core ?? new SqliteCore(db);
    this.owner = core === undefined;
  }

  /** Same connection, same lock; writes resolve at COMMIT; nothing starts while `refusal` says why not. */
  unsynced(refusal?: () => Error | undefined): CachingSqliteDialect {
    return new CachingSqliteDialect(this.core.db, undefined, this.core, refusal);
  }

  createDriver(): Driver {
    return new CachingSqliteDriver(this.core, this.owner, this.sync, this.refusal);
  }
}

const STATEMENT_CACHE_LIMIT = 500;

/** A prepared statement, and for one that returns rows, the function that makes a row's object. */
interface Prepared {
  stmt: BetterSqlite3.Statement;
  row?: RowMaker;
}

interface RowMaker {
  (values: unknown[]): unknown;
  /** How many columns the function was made for. */
  width: number;
}

/**
 * better-sqlite3 builds each row object property by property in C++: ~9 µs for a 25-column
 * message row on the bench machine, a tenth of a delivery's cost when intake and the lease read
 * their batches. Rows come back as arrays instead (`raw`) and a function made once per statement
 * from its column names turns each into an object literal of a fixed shape: ~3.5 µs. A name that
 * appears twice keeps its last value, as better-sqlite3's own objects do. The function is made
 * again when a re-prepared statement returns another number of columns (a migration by another
 * process added one); a change that keeps the count but renames a column would go unseen —
 * migrations here only add.
 */
function rowMaker(stmt: BetterSqlite3.Statement): RowMaker {
  const columns = stmt.columns();
  // computed keys of quoted string literals: any column name or alias is safe here, `__proto__`
  // included (a plain `"__proto__": …` in a literal would set the prototype)
  const fields = columns.map((c, i) => `[${JSON.stringify(c.name)}]: v[${i}]`);
  const make = new Function('v', `return { ${fields.join(', ')} };`) as RowMaker;
  make.width = columns.length;
  return make;
}

class CachingSqliteConnection implements DatabaseConnection {
  private readonly statements = new Map<string, Prepared>();
  /** Set by any statement that may write; the driver syncs and clears it on release. */
  wrote = false;
  constructor(private readonly db: BetterSqlite3.Database) {}

  private prepare(sql: string): Prepared {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      const stmt = this.db.prepare(sql);
      prepared = stmt.reader ? { stmt: stmt.raw(true), row: rowMaker(stmt) } : { stmt };
      // Dynamic IN-lists make many distinct texts; a crude bound keeps the cache from growing forever.
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const prepared = this.prepare(query.sql);
    const stmt = prepared.stmt;
    const params = query.parameters as unknown[];
    // A statement that changed rows marks the write (BEGIN/COMMIT count as read-only; the
    // statements between them mark it). One that matched nothing — a lease that found no due
    // message — needs no sync.
    if (prepared.row) {
      const values = stmt.all(params) as unknown[][];
      // SQLite re-prepares a statement whose tables changed (a migration by another process):
      // `SELECT *` may then return other columns than the function was made for
      if (values.length > 0 && values[0]!.length !== prepared.row.width) prepared.row = rowMaker(stmt);
      const row = prepared.row;
      const rows = new Array<R>(values.length);
      for (let i = 0; i < values.length; i++) rows[i] = row(values[i]!) as R;
      if (!stmt.readonly && rows.length > 0) this.wrote = true;
      return { rows };
    }
    const { changes } = stmt.run(params);
    if (changes > 0) this.wrote = true;
    return { numAffectedRows: BigInt(changes), rows: [] };
  }

  // biome-ignore lint/correctness/useYield: streaming is not used by the hub
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite driver');
  }
}

/** The one connection of a process and the lock that hands it to one caller at a time. */
class SqliteCore {
  readonly connection: CachingSqliteConnection;
  lock: Promise<void> | undefined;
  release: (() => void) | undefined;

  constructor(readonly db: BetterSqlite3.Database) {
    this.connection = new CachingSqliteConnection(db);
  }
}

class CachingSqliteDriver implements Driver {
  constructor(
    private readonly core: SqliteCore,
    private readonly owner: boolean,
    private readonly sync?: () => Promise<void>,
    private readonly refusal?: () => Error | undefined,
  ) {}

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    const refused = this.refusal?.();
    if (refused) throw refused;
    const core = this.core;
    while (core.lock) await core.lock;
    core.lock = new Promise((resolve) => {
      core.release = resolve;
    });
    return core.connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
    // a transaction may have written through the connection directly (fast-insert.ts)
    this.core.connection.wrote = true;
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }
  async releaseConnection(): Promise<void> {
    const core = this.core;
    // an unsynced caller's writes are covered by whichever sync starts next, so the flag is
    // cleared either way: a later read-only call has nothing of its own to wait for
    const wrote = core.connection.wrote && !core.db.inTransaction;
    if (wrote) core.connection.wrote = false;
    const release = core.release;
    core.lock = undefined;
    core.release = undefined;
    release?.();
    if (wrote && this.sync) await this.sync();
  }
  async destroy(): Promise<void> {
    if (this.owner) this.core.db.close();
  }
}
