import { type fdatasync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import type { ArchiveCountPolicy } from '../archive-counts.js';
import type { DB } from '../schema.js';
import { SqlStorage } from '../sql-storage.js';
import { startCheckpointer } from './checkpointer.js';
import { CachingSqliteDialect } from './dialect.js';
import { messageInserter, statementRunner } from './fast-insert.js';
import { SqliteReader, SqliteReaderDialect } from './reader.js';
import { WalSyncer } from './wal-sync.js';

export type SqliteSync = 'full' | 'normal';

/**
 * The main connection's share of a WAL restart (checkpointer.ts): copy back what the worker's
 * passes left. PASSIVE never waits for a reader (another process may be reading). Between two
 * tasks no transaction of ours is open, unless one awaits something real: the next call comes soon.
 */
export function checkpointRemainder(db: Database.Database): void {
  if (db.open && !db.inTransaction) db.pragma('wal_checkpoint(PASSIVE)');
}

/**
 * Opens (creating if needed) the embedded database. WAL lets readers run beside the writer.
 * `full` (the default) makes every write durable before the call that made it resolves, so an
 * acknowledged push survives a power cut as well as a crash: SQLite itself runs with
 * `synchronous=NORMAL` and the WAL is fdatasync'ed off the event loop (wal-sync.ts); group commit
 * keeps that affordable. `normal` skips the sync: it survives a process crash but may lose the
 * last commits on power loss; it is a setting, documented in docs/storage.md.
 */
export function openSqlite(
  file: string,
  sync: SqliteSync = 'full',
  options: {
    /** The WAL's fdatasync (a test passes one it can hold). */
    datasync?: typeof fdatasync;
    /** When GET …/queues may reuse a large archive's count (archive-counts.ts). */
    archiveCounts?: ArchiveCountPolicy | undefined;
  } = {},
): SqlStorage {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // checkpoints run in a worker thread (checkpointer.ts); this threshold is only the safety net
  db.pragma('wal_autocheckpoint = 20000');
  const stopCheckpointer = startCheckpointer(file, () => checkpointRemainder(db));
  const syncer = sync === 'full' ? new WalSyncer(`${file}-wal`, options.datasync) : undefined;
  const dialect = new CachingSqliteDialect(db, syncer && (() => syncer.sync()));
  const kysely = new Kysely<DB>({ dialect });
  const reader = new SqliteReader(file);
  return new SqlStorage(
    kysely,
    {
      name: 'sqlite',
      singleProcess: true,
      intakeMode: 'select-then-apply',
      timeType: 'INTEGER',
      insertChunk: 400,
      parameter: () => '?',
      rowLocks: false,
      lookBeforeWrite: true,
      batchSettlements: false,
      indexed: (table, index) => sql.raw(`${table} INDEXED BY ${index}`),
      // no LATERAL: each mapping's copies as a correlated list of rowids
      dueCopiesPerMapping: (due, limit) => sql`maps JOIN messages c ON c.rowid IN (
          SELECT x.rowid FROM messages x INDEXED BY messages_due_mapping
          WHERE x.mapping_id = maps.id AND ${due('x')}
          ORDER BY x.attempt_at LIMIT ${limit})`,
      insertMessageRows: messageInserter(db),
      runWrite: statementRunner(db),
      reader: {
        db: new Kysely<DB>({ dialect: new SqliteReaderDialect(reader) }),
        together: (queries) =>
          reader.readTogether(queries.map((q) => ({ sql: q.sql, params: q.parameters }))),
      },
      ...(syncer
        ? {
            early: {
              db: new Kysely<DB>({ dialect: dialect.unsynced(() => syncer.error) }),
              durable: () => syncer.sync(),
            },
          }
        : {}),
      observeSyncs: (observe) => {
        if (syncer) syncer.observe = observe;
      },
      close: async () => {
        await syncer?.close();
        await stopCheckpointer();
      },
    },
    { archiveCounts: options.archiveCounts },
  );
}
