import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { ArchiveCountPolicy } from '../archive-counts.js';
import type { DB } from '../schema.js';
import { SqlStorage } from '../sql-storage.js';
import { PgNotifier, WAKE_CHANNEL } from './notifier.js';

// Times and counts are BIGINT; epoch milliseconds fit a JS number exactly, so parse them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export interface PostgresOptions {
  /** Connections in this process's pool (default 10). */
  poolSize?: number;
  /** When GET …/queues may reuse a large archive's count (archive-counts.ts). */
  archiveCounts?: ArchiveCountPolicy | undefined;
}

export function openPostgres(url: string, options: PostgresOptions = {}): SqlStorage {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that
  // would crash the process. The pool replaces the client on the next checkout.
  pool.on('error', () => {});
  // A checked-out client whose connection drops emits 'error' too; the query in flight already
  // fails with the same error (and the request answers 503), so the event itself is only noise —
  // but an 'error' event with no listener would end the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  const kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return new SqlStorage(
    kysely,
    {
      name: 'postgres',
      singleProcess: false,
      intakeMode: 'lock-in-transaction',
      timeType: 'BIGINT',
      insertChunk: 1000,
      parameter: (n) => `$${n}`,
      rowLocks: true,
      lookBeforeWrite: false,
      batchSettlements: true,
      indexed: (table) => sql.raw(table),
      dueCopiesPerMapping: (due, limit) => sql`maps CROSS JOIN LATERAL (
          SELECT d.id, d.attempt_at FROM messages d
          WHERE d.mapping_id = maps.id AND ${due('d')}
          ORDER BY d.attempt_at LIMIT ${limit}) c`,
      lock: async (trx, name) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
      },
      notify: async (trx, channel) => {
        await sql`SELECT pg_notify(${WAKE_CHANNEL}, ${channel})`.execute(trx);
      },
      listen: (onWake, onError) => {
        const notifier = new PgNotifier(url, onWake, onError);
        notifier.start();
        return () => notifier.stop();
      },
      close: async () => {},
    },
    { archiveCounts: options.archiveCounts },
  );
}
