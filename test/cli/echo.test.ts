import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { eventually } from '../helpers/endpoint.js';
import { bannerCredentials, cli, echoEndpoint, ROOT, serve } from '../helpers/process.js';

test("the README's round trip: a push reaches the echo endpoint and the copy is archived with its result", async () => {
  const data = mkdtempSync(join(tmpdir(), 'switchyard-echo-'));
  const echo = await echoEndpoint();
  const hub = await serve(['--data', data]);
  try {
    const { storeId, token } = bannerCredentials(hub.output());
    const call = async (method: 'GET' | 'POST', path: string, body?: string) => {
      const res = await request(`${hub.url}/api/stores/${storeId}${path}`, {
        method,
        headers: { 'x-augury-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
        body,
      });
      return { status: res.statusCode, body: (await res.body.json()) as any };
    };
    const mapping = await call(
      'POST',
      '/mappings',
      JSON.stringify({
        name: 'echo.products',
        url: `${echo.url}/products`,
        token: 'echo-token',
        messages: ['product:new'],
      }),
    );
    assert.equal(mapping.status, 201, JSON.stringify(mapping.body));
    const pushed = await call(
      'POST',
      '/messages',
      readFileSync(join(ROOT, 'test/fixtures/new_product.json'), 'utf8'),
    );
    assert.equal(pushed.status, 201);
    const copy = await eventually(async () => {
      const list = (await call('GET', `/queues/archived?parent_id=${pushed.body.message_id}`)).body;
      return list[0]?.state === 'completed' ? list[0] : undefined;
    });
    const detail = (await call('GET', `/messages/${copy.id}`)).body;
    assert.deepEqual(detail.result, { message_id: copy.id });
    assert.equal(detail.consumer, 'echo.products');
    await eventually(async () => echo.output().includes(copy.id));
    assert.match(echo.output(), new RegExp(`POST /products product:new ${copy.id}`));
  } finally {
    hub.child.kill('SIGTERM');
    echo.child.kill('SIGTERM');
    await Promise.all([hub.exited, echo.exited]);
    rmSync(data, { recursive: true, force: true });
  }
});

test('the echo endpoint answers a body that is no JSON object with 406 and keeps running; a port in use ends it with the reason', async () => {
  const echo = await echoEndpoint();
  try {
    for (const body of ['null', '[1]', 'not json']) {
      const res = await request(`${echo.url}/x`, { method: 'POST', body });
      assert.equal(res.statusCode, 406, body);
      await res.body.text();
    }
    const ok = await request(`${echo.url}/x`, { method: 'POST', body: '{"message_id":"m-1"}' });
    assert.deepEqual(await ok.body.json(), { message_id: 'm-1' });
    const taken = cli(['endpoint', 'echo', '--port', new URL(echo.url).port]);
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, /^switchyard: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE\n$/);
  } finally {
    echo.child.kill('SIGTERM');
    await echo.exited;
  }
});
