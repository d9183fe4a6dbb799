import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { DB } from '../schema.js';
import { SqlStorage } from '../sql-storage.js';
import { startCheckpointer } from './checkpointer.js';
import { CachingSqliteDialect } from './dialect.js';
import { messageInserter } from './fast-insert.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

export type SqliteSync = 'full' | 'normal';

/**
 * Opens (creating if needed) the embedded database. WAL lets readers run beside the writer.
 * `synchronous=FULL` (the default) fsyncs every commit, so an acknowledged push survives a power
 * cut as well as a crash; group commit keeps that affordable. `normal` survives a process crash
 * but may lose the last commits on power loss; it is a setting, documented in docs/storage.md.
 */
export function openSqlite(file: string, sync: SqliteSync = 'full'): SqlStorage {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // checkpoints run in a worker thread (checkpointer.ts); this threshold is only the safety net
  db.pragma('wal_autocheckpoint = 20000');
  const stopCheckpointer = startCheckpointer(file);
  const kysely = new Kysely<DB>({ dialect: new CachingSqliteDialect(db) });
  return new SqlStorage(kysely, {
    dialect: 'sqlite',
    intakeMode: 'select-then-apply',
    migrations: SQLITE_MIGRATIONS,
    insertChunk: 400,
    insertMessageRows: messageInserter(db),
    close: stopCheckpointer,
  });
}
