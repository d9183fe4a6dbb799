import type BetterSqlite3 from 'better-sqlite3';
import type { DB } from '../schema.js';
import { MESSAGE_ROW_COLUMNS } from '../sql-messages.js';

type MessageRow = DB['messages'];

const COLUMNS = MESSAGE_ROW_COLUMNS;

/**
 * The hottest write of the hub (every push, every accepted copy) as one prepared statement run once
 * per row. Building and compiling a multi-row INSERT through the query builder cost more than
 * SQLite's own work on the rows. It must run inside a transaction already open on this connection
 * (the callers are group commits), where SQLite executes it synchronously.
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
      stmt.run(values);
    }
  };
}
