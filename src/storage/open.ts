import { join } from 'node:path';
import type { ArchiveCountPolicy } from './archive-counts.js';
import type { Storage } from './contract.js';
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
  return !!url && /^postgres(ql)?:\/\//.test(url);
}

/** `sqlite:PATH` or a bare path names the file; without one it is `<dataDir>/switchyard.db`. */
export function sqliteFile(url: string | undefined, dataDir: string): string {
  const path = url?.replace(/^sqlite:(\/\/)?/, '');
  return path || join(dataDir, 'switchyard.db');
}

/** Opens and migrates the configured database. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const url = options.databaseUrl;
  const storage = isPostgresUrl(url)
    ? openPostgres(url, { poolSize: options.poolSize ?? 10, archiveCounts: options.archiveCounts })
    : openSqlite(sqliteFile(url, options.dataDir), options.sqliteSync, {
        archiveCounts: options.archiveCounts,
      });
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
  return storage;
}
