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
 */
export class CachingSqliteDialect implements Dialect {
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly sync?: () => Promise<void>,
  ) {}
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new CachingSqliteDriver(this.db, this.sync);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

const STATEMENT_CACHE_LIMIT = 500;

class CachingSqliteConnection implements DatabaseConnection {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Set by any statement that may write; the driver syncs and clears it on release. */
  wrote = false;
  constructor(private readonly db: BetterSqlite3.Database) {}

  private prepare(sql: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      // Dynamic IN-lists make many distinct texts; a crude bound keeps the cache from growing forever.
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.prepare(query.sql);
    const params = query.parameters as unknown[];
    // A statement that changed rows marks the write (BEGIN/COMMIT count as read-only; the
    // statements between them mark it). One that matched nothing — a lease that found no due
    // message — needs no sync.
    if (stmt.reader) {
      const rows = stmt.all(params) as R[];
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

class CachingSqliteDriver implements Driver {
  private connection: CachingSqliteConnection;
  private lock: Promise<void> | undefined;
  private release: (() => void) | undefined;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly sync?: () => Promise<void>,
  ) {
    this.connection = new CachingSqliteConnection(db);
  }

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    while (this.lock) await this.lock;
    this.lock = new Promise((resolve) => {
      this.release = resolve;
    });
    return this.connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
    // a transaction may have written through the connection directly (fast-insert.ts)
    this.connection.wrote = true;
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }
  async releaseConnection(): Promise<void> {
    const wrote = this.connection.wrote && !this.db.inTransaction;
    if (wrote) this.connection.wrote = false;
    const release = this.release;
    this.lock = undefined;
    this.release = undefined;
    release?.();
    if (wrote && this.sync) await this.sync();
  }
  async destroy(): Promise<void> {
    this.db.close();
  }
}
