import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * A hub on SQLite is one process (docs/design.md#sqlite-adapter; PostgreSQL is for several). Started twice on
 * the same database, the second's start-up sweep took the first's live leases for its own leftovers and
 * released them, and their copies were delivered twice. So `serve` holds this lock while it runs: an
 * exclusive lock on a small `<database>.lock` file, taken by SQLite's own file locking, which the operating
 * system drops when the process ends, however it ends (no stale lock after a crash). Commands that only read
 * or add stores (`switchyard store …`) do not take it and may run beside a serving hub.
 *
 * Returns the release; throws when another process holds the lock.
 */
export function lockSqliteDatabase(file: string): () => void {
  const path = `${file}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const lock = new Database(path, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY'))
      throw new Error(
        `another Switchyard process is serving ${file} (a hub on SQLite is one process; ` +
          'use PostgreSQL for several, docs/cluster.md)',
      );
    throw err;
  }
  return () => {
    lock.exec('ROLLBACK');
    lock.close();
  };
}
