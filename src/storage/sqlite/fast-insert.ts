import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import type { DB } from '../schema.js';
import { MESSAGE_ROW_COLUMNS, storedPayload } from '../sql-messages.js';

type MessageRow = DB['messages'];

const COLUMNS = MESSAGE_ROW_COLUMNS;
const PAYLOAD = COLUMNS.indexOf('payload');

/**
 * The hottest write of the hub (every push, every accepted copy) as one prepared statement run once
 * per row; a copy is written without its payload (sql-messages.ts, SHARED_PAYLOAD). Building and
 * compiling a multi-row INSERT through the query builder cost more than SQLite's own work on the
 * rows. It must run inside a transaction already open on this connection (the callers are group
 * commits), where SQLite executes it synchronously.
 */
export function messageInserter(db: BetterSqlite3.Database): (rows: readonly MessageRow[]) => void {
  let stmt: BetterSqlite3.Statement | undefined; // prepared on first use: the table exists only after migrations
  const values: unknown[] = new Array(COLUMNS.length);
  return (rows) => {
    stmt ??= db.prepare(
      `INSERT INTO messages (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
    for (const row of rows) {
      for (let i = 0; i < COLUMNS.length; i++) values[i] = row[COLUMNS[i]!];
      values[PAYLOAD] = storedPayload(row);
      stmt.run(values);
    }
  };
}

/**
 * Runs a compiled write (no rows returned) synchronously inside the transaction open on this
 * connection and answers how many rows it changed: the settlement's UPDATE and attempt INSERT,
 * two per delivery, without the query executor's connection hand-off and promise turns for each
 * (settle-statements.ts keeps their texts to a handful, so the cache stays small).
 */
export function statementRunner(db: BetterSqlite3.Database): (query: CompiledQuery) => number {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return (query) => {
    let stmt = statements.get(query.sql);
    if (!stmt) {
      stmt = db.prepare(query.sql);
      if (statements.size >= 100) statements.clear();
      statements.set(query.sql, stmt);
    }
    return stmt.run(query.parameters as unknown[]).changes;
  };
}
