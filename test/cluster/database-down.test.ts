import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { postgresUrl } from '../helpers/databases.js';
import { testHub } from '../helpers/hub.js';

const url = postgresUrl();
if (!url && process.env.CI) throw new Error('CI is set but DATABASE_URL does not point at PostgreSQL');

test('with the database gone, pushes and readiness answer 503, not 500', {
  skip: !url && 'needs PostgreSQL (DATABASE_URL)',
}, async () => {
  const t = await testHub('postgres');
  try {
    assert.equal((await t.push({ message: 'acme:x:y', payload: {} })).status, 201);
    const dbName = new URL(t.config.databaseUrl!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    // take the database away under the running hub
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbName]);
    try {
      const push = await t.push({ message: 'acme:x:y', payload: {} });
      assert.equal(push.status, 503, JSON.stringify(push.body));
      assert.deepEqual(push.body, { error: 'Database unavailable; retry later.' });
      const ready = await t.get('/readyz');
      assert.equal(ready.status, 503);
    } finally {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // and it recovers once the database is back
    let status = 0;
    for (let i = 0; i < 50 && status !== 201; i++) {
      status = (await t.push({ message: 'acme:x:y', payload: {} })).status;
      if (status !== 201) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 201);
  } finally {
    await t.close();
  }
});
