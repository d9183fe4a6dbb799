import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { banner } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config.js';

const created = { store: { id: 'store-1' }, token: 'sy_token' };

test("the first start's banner shows the Default Store and a push that runs from any directory", () => {
  const all = banner(loadConfig({ dataDir: '/tmp/x' }, {}), 'http://127.0.0.1:4000', { created, stores: [] });
  assert.match(all, /store id: store-1/);
  assert.match(all, /export HUB=http:\/\/127\.0\.0\.1:4000 STORE_ID=store-1 TOKEN=sy_token/);
  assert.match(all, /store token create store-1 --data \/tmp\/x/);
  // the curl carries its body inline (no file to be in the right directory for), and the body is
  // the library's product:new sample, as the shell hands it to curl
  const curl = /^ {2}curl .*$/m.exec(all)?.[0];
  assert.ok(curl, all);
  const body = execFileSync('sh', ['-c', `printf %s ${/-d ('[^']*')/.exec(curl)?.[1]}`]).toString();
  assert.equal(JSON.parse(body).message, 'product:new');
  assert.match(curl, /"\$HUB\/api\/stores\/\$STORE_ID\/messages"$/);
});

test("a worker's banner says it serves health checks only and shows no push", () => {
  const worker = banner(loadConfig({ dataDir: '/tmp/x', role: 'worker' }, {}), 'http://127.0.0.1:4000', {
    created,
    stores: [],
  });
  assert.match(worker, /a worker process: it serves \/healthz, \/readyz and \/metrics only/);
  assert.match(worker, /token: +sy_token/);
  assert.doesNotMatch(worker, /curl/);
});

test('an API process that did not create the first store says how to get a token', () => {
  const one = banner(loadConfig({ dataDir: '/tmp/x', role: 'api' }, {}), 'http://127.0.0.1:4000', {
    created: undefined,
    stores: [{ id: 'store-9', name: 'Default Store' }],
  });
  assert.match(one, /Store "Default Store": store-9/);
  assert.match(one, /npx switchyard store token create store-9 --data \/tmp\/x/);
  assert.match(one, /export HUB=http:\/\/127\.0\.0\.1:4000 STORE_ID=store-9 TOKEN=<token>/);
  const many = banner(loadConfig({ dataDir: '/tmp/x' }, {}), 'http://127.0.0.1:4000', {
    created: undefined,
    stores: [
      { id: 'a', name: 'A' },
      { id: 'b', name: 'B' },
    ],
  });
  assert.match(many, /2 stores \(`npx switchyard store list --data \/tmp\/x` shows their ids\)/);
  assert.match(many, /store token create <store id>/);
});
