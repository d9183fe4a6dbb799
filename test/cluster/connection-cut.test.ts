import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { request } from 'undici';
import { freshDatabase, postgresUrl, type TestDatabase } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { cli, type ServerProcess, serve } from '../helpers/process.js';

const url = postgresUrl();
if (!url && process.env.CI) throw new Error('CI is set but DATABASE_URL does not point at PostgreSQL');

interface LogLine {
  level: number;
  msg: string;
  connection?: string;
  down_ms?: number;
}

/** The JSON log lines a process printed so far (the banner and other text left out). */
function logLines(p: ServerProcess): LogLine[] {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

async function push(base: string, storeId: string, token: string, i: number): Promise<number> {
  const res = await request(`${base}/api/stores/${storeId}/messages`, {
    method: 'POST',
    headers: { 'x-augury-token': token, 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'stock:change', payload: { sku: `S${i}`, quantity: i } }),
  });
  await res.body.dump();
  return res.statusCode;
}

describe('a cut PostgreSQL connection', { skip: !url && 'needs PostgreSQL (DATABASE_URL)' }, () => {
  let db: TestDatabase;
  let hub: ServerProcess;
  let endpoint: TestEndpoint;
  let storeId: string;
  let token: string;
  before(async () => {
    db = await freshDatabase('postgres');
    const created = cli(['store', 'create', '--name', 'Cut', '--json', '--database', db.url]);
    assert.equal(created.status, 0, created.stderr);
    ({ id: storeId, token } = JSON.parse(created.stdout));
    endpoint = await TestEndpoint.start(() => ({ body: {} }));
    hub = await serve(['--database', db.url, '--log-level', 'info']);
    const mapping = await request(`${hub.url}/api/stores/${storeId}/mappings`, {
      method: 'POST',
      headers: { 'x-augury-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'cut.sink',
        url: `${endpoint.url}/sink`,
        token: 'sink',
        messages: ['stock:change'],
      }),
    });
    assert.equal(mapping.statusCode, 201, await mapping.body.text());
  });
  after(async () => {
    if (hub.child.exitCode === null) hub.child.kill('SIGKILL');
    await hub.exited;
    await endpoint.close();
    await db.drop();
  });

  test('is a warn line and an info line with the time it took, no error and no stack trace', async () => {
    assert.equal(await push(hub.url, storeId, token, 0), 201);
    await eventually(async () => endpoint.received.length === 1, 10_000, 'the first delivery');
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      // hold the tables the workers poll, so their statements are in flight, then cut every
      // connection of the hub (its pool and its LISTEN client) under them
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE messages, schedulers IN ACCESS EXCLUSIVE MODE');
      const blocked = push(hub.url, storeId, token, 1).catch(() => 0);
      await new Promise((r) => setTimeout(r, 1500));
      const cut = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      assert.ok(cut.rowCount! >= 2, `${cut.rowCount} connections cut`);
      await admin.query('COMMIT');
      assert.equal(await blocked, 503, 'the push in flight at the cut was not acknowledged');
    } finally {
      await admin.end();
    }
    const lines = await eventually(
      async () => {
        const l = logLines(hub);
        return l.some((x) => x.msg.startsWith('reconnected after') && x.connection === 'pool') &&
          l.some((x) => x.msg.startsWith('reconnected after') && x.connection === 'listen')
          ? l
          : undefined;
      },
      15_000,
      'both reconnects to be logged',
    );
    for (const connection of ['pool', 'listen']) {
      const lost = lines.filter((x) => x.connection === connection && x.level === 40);
      assert.equal(lost.length, 1, JSON.stringify(lost));
      assert.equal(lost[0]!.msg, 'lost connection to PostgreSQL, reconnecting');
      const back = lines.find((x) => x.connection === connection && x.level === 30);
      assert.match(back!.msg, /^reconnected after \d+ ms$/);
      assert.ok(back!.down_ms! < 10_000, `${connection} back after ${back!.down_ms} ms`);
    }
    assert.deepEqual(
      lines.filter((x) => x.level >= 50),
      [],
      'nothing logged as an error',
    );
    assert.doesNotMatch(hub.output(), /"stack"/);
    // and the hub works as before
    assert.equal(await push(hub.url, storeId, token, 2), 201);
    await eventually(async () => endpoint.received.length === 2, 10_000, 'a delivery after the cut');
  });
});
