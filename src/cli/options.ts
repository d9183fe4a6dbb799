import type { Command } from 'commander';
import { ConfigError, type HubConfig, loadConfig } from '../config.js';
import type { Storage } from '../storage/contract.js';
import { openStorage } from '../storage/open.js';

/** Database flags shared by every command that can work on the database directly. */
export function databaseOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory of the embedded SQLite database (env SWITCHYARD_DATA_DIR)')
    .option('--database <url>', 'postgres://… to use PostgreSQL (env DATABASE_URL)')
    .option('--config <file>', 'JSON config file (env SWITCHYARD_CONFIG)');
}

export interface DatabaseFlags {
  data?: string;
  database?: string;
  config?: string;
}

export function configFrom(flags: DatabaseFlags, extra: Partial<HubConfig> = {}): HubConfig {
  try {
    return loadConfig(
      { dataDir: flags.data, databaseUrl: flags.database, ...extra },
      process.env,
      flags.config,
    );
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(err.message);
    throw err;
  }
}

export async function withStorage<T>(flags: DatabaseFlags, fn: (storage: Storage) => Promise<T>): Promise<T> {
  const config = configFrom(flags);
  const storage = await openStorage({ ...config, poolSize: 2 });
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}
