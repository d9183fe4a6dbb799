import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onCleanup, ROOT } from './processes.js';

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** The PostgreSQL server to use, if any: DATABASE_URL when it is a postgres:// URL. */
export function postgresServer(): string | undefined {
  const url = process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

/** A fresh database on the server for this run (`switchyard_bench_<random>`), dropped by `drop()`. */
export async function createBenchDatabase(server: string): Promise<BenchDatabase> {
  const name = `switchyard_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(server, `CREATE DATABASE ${name}`);
  const dropSql = `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`;
  // If the harness is interrupted, exit handlers cannot wait for a client: drop it from a child.
  const forget = onCleanup(() => {
    const script = `const pg = require('pg'); const c = new pg.Client({ connectionString: process.argv[1] });
      c.connect().then(() => c.query(process.argv[2])).finally(() => c.end());`;
    spawnSync(process.execPath, ['-e', script, server, dropSql], { cwd: ROOT, timeout: 10_000 });
  });
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await adminQuery(server, dropSql);
      forget();
    },
  };
}

/** The server's version line, for the report. */
export async function postgresVersion(server: string): Promise<string> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    const res = await client.query<{ server_version: string }>('SHOW server_version');
    return res.rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}

async function adminQuery(server: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
