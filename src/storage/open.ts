import { join } from 'node:path';
import type { ArchiveCountPolicy } from './archive-counts.js';
import type { Storage } from './contract.js';
import { connectionProblem } from './postgres/connect-errors.js';
import { openPostgres } from './postgres/open.js';
import { openSqlite, type SqliteSync } from './sqlite/open.js';

export interface StorageOptions {
  /** A postgres:// URL selects PostgreSQL; anything else means the embedded SQLite file. */
  databaseUrl?: string | undefined;
  dataDir: string;
  sqliteSync?: SqliteSync;
  poolSize?: number;
  /** When GET …/queues may reuse a large archive's count (archive-counts.ts; tests shorten it). */
  archiveCounts?: ArchiveCountPolicy;
}

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

/** `sqlite:PATH` or a bare path names the file; without one it is `<dataDir>/switchyard.db`. */
export function sqliteFile(url: string | undefined, dataDir: string): string {
  const path = url?.replace(/^sqlite:(\/\/)?/i, '');
  return path || join(dataDir, 'switchyard.db');
}

/** Opens and migrates the configured database. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const url = options.databaseUrl;
  // which database, for messages: the URL without its password, or the SQLite file
  const where = isPostgresUrl(url) ? withoutPassword(url) : sqliteFile(url, options.dataDir);
  let storage: Storage;
  try {
    storage = isPostgresUrl(url)
      ? openPostgres(url, { poolSize: options.poolSize ?? 10, archiveCounts: options.archiveCounts })
      : openSqlite(sqliteFile(url, options.dataDir), options.sqliteSync, {
          archiveCounts: options.archiveCounts,
        });
  } catch (err) {
    throw new Error(`cannot open the database ${where}: ${(err as Error).message}`, { cause: err });
  }
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close().catch(() => {});
    const problem = isPostgresUrl(url) ? connectionProblem(err, url) : undefined;
    throw new Error(`${problem ?? (err as Error).message} (database ${where})`, { cause: err });
  }
  return storage;
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
