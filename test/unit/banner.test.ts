import assert from 'node:assert/strict';
import { test } from 'node:test';
import { banner } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config.js';

const created = { store: { id: 'store-1' }, token: 'sy_token' };

test("the first start's banner shows the Default Store and a curl push; a worker's says it serves health checks only", () => {
  const all = banner(loadConfig({ dataDir: '/tmp/x' }, {}), 'http://127.0.0.1:4000', created);
  assert.match(all, /store id: store-1/);
  assert.match(all, /curl --data @new_product\.json .*\/api\/stores\/store-1\/messages/);
  const worker = banner(
    loadConfig({ dataDir: '/tmp/x', role: 'worker' }, {}),
    'http://127.0.0.1:4000',
    created,
  );
  assert.match(worker, /a worker process: it serves \/healthz, \/readyz and \/metrics only/);
  assert.match(worker, /token: +sy_token/);
  assert.doesNotMatch(worker, /curl/);
});
