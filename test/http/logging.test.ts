import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createLogger, ensureDefaultStore, startHub } from '../../src/hub.js';
import { openStorage } from '../../src/storage/open.js';
import { freshDatabase } from '../helpers/databases.js';

test('request logs are JSON lines with a request id, and tokens never appear in them', async () => {
  const db = await freshDatabase('sqlite');
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += chunk;
      done();
    },
  });
  const config = loadConfig(
    { dataDir: db.dataDir, databaseUrl: db.url, adminToken: 'admin-token-0123456789', logLevel: 'info' },
    {},
  );
  const storage = await openStorage(config);
  const { store, token } = (await ensureDefaultStore(storage))!;
  const hub = await startHub(config, { storage, listen: false, logger: createLogger('info', sink) });
  try {
    const res = await hub.app.inject({
      method: 'POST',
      url: `/api/stores/${store.id}/messages`,
      headers: { 'x-augury-token': token, 'content-type': 'application/json', 'x-request-id': 'req-123' },
      payload: JSON.stringify({ message: 'acme:log:x', payload: { token: 'in-a-payload' } }),
    });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['x-request-id'], 'req-123');
    await hub.app.inject({
      method: 'GET',
      url: '/api/stores',
      headers: { 'x-admin-token': 'admin-token-0123456789' },
    });
    await hub.app.inject({
      method: 'GET',
      url: `/api/stores/${store.id}/queues`,
      headers: { 'x-augury-token': 'sy_wrong-token' },
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.reqId === 'req-123' && l.msg === 'request completed'));
    assert.ok(!out.includes(token), 'the store token was logged');
    assert.ok(!out.includes('admin-token-0123456789'), 'the admin token was logged');
    assert.ok(!out.includes('sy_wrong-token'), 'a presented token was logged');
  } finally {
    await hub.close();
    await storage.close();
    await db.drop();
  }
});
