import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DialectName } from '../../src/storage/dialect.js';

export type Backend = DialectName;

/** The server the PostgreSQL suites use: TEST_DATABASE_URL, else DATABASE_URL. */
export function postgresUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

/**
 * The backends every behaviour suite runs on. SQLite always; PostgreSQL when a server is
 * configured. Under CI a missing server is an error, not a skip.
 */
export function backends(): Backend[] {
  if (postgresUrl()) return ['sqlite', 'postgres'];
  if (process.env.CI) throw new Error('CI is set but DATABASE_URL does not point at PostgreSQL');
  if (!warned) {
    warned = true;
    process.stdout.write('# PostgreSQL suites skipped: set DATABASE_URL or TEST_DATABASE_URL to run them\n');
  }
  return ['sqlite'];
}
let warned = false;

export interface TestDatabase {
  backend: Backend;
  /** What to pass as `databaseUrl` (a postgres:// URL or a SQLite file path). */
  url: string;
  dataDir: string;
  drop(): Promise<void>;
}

/** A fresh, empty database: a temp SQLite file, or a new database on the PostgreSQL server. */
export async function freshDatabase(backend: Backend): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  if (backend === 'sqlite') {
    return {
      backend,
      url: join(dataDir, 'hub.db'),
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const server = postgresUrl()!;
  const name = `switchyard_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    backend,
    url: url.toString(),
    dataDir,
    drop: async () => {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
