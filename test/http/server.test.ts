import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type TestHub, testHub } from '../helpers/hub.js';

const seed = readFileSync(new URL('../fixtures/new_product.json', import.meta.url), 'utf8');

describe('on a real socket', () => {
  let t: TestHub;
  before(async () => {
    t = await testHub('sqlite', { listen: true });
  });
  after(async () => t.close());

  test('push over HTTP answers 201 and the message is readable', async () => {
    const res = await request(`${t.hub.url}/api/stores/${t.storeId}/messages`, {
      method: 'POST',
      headers: { 'x-augury-token': t.token, 'content-type': 'application/json' },
      body: seed,
    });
    assert.equal(res.statusCode, 201);
    assert.match(String(res.headers['content-type']), /application\/json/);
    assert.ok(res.headers['x-request-id']);
    const body = (await res.body.json()) as { message_id: string };
    const detail = await request(`${t.hub.url}/api/stores/${t.storeId}/messages/${body.message_id}`, {
      headers: { 'x-augury-token': t.token },
    });
    assert.equal(detail.statusCode, 200);
    await detail.body.dump();
  });

  test('healthz and readyz', async () => {
    const health = await request(`${t.hub.url}/healthz`);
    assert.equal(health.statusCode, 200);
    assert.equal(((await health.body.json()) as { status: string }).status, 'ok');
    const ready = await request(`${t.hub.url}/readyz`);
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(await ready.body.json(), { status: 'ready', database: 'sqlite' });
  });

  test('OpenAPI document lists the routes; /docs serves the browser', async () => {
    const res = await request(`${t.hub.url}/api/openapi.json`);
    assert.equal(res.statusCode, 200);
    const doc = (await res.body.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    for (const path of [
      '/api/stores/{store_id}/messages',
      '/api/stores/{store_id}/queues',
      '/api/stores/{store_id}/queues/{queue}',
      '/api/stores/{store_id}/messages/{message_id}',
      '/api/stores/{store_id}/available_messages',
      '/api/stores/{store_id}/message_types/{type}',
      '/api/stores',
      '/api/samples/{type}',
      '/healthz',
    ]) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    const docs = await request(`${t.hub.url}/docs/`);
    assert.equal(docs.statusCode, 200);
    assert.match(await docs.body.text(), /swagger/i);
  });

  test('unknown routes answer 404 in the error shape', async () => {
    const res = await request(`${t.hub.url}/api/nothing-here`);
    assert.equal(res.statusCode, 404);
    assert.deepEqual(await res.body.json(), {
      error: 'The resource you were looking for could not be found.',
    });
  });

  test('samples come from the library', async () => {
    const list = await request(`${t.hub.url}/api/samples`);
    const types = (await list.body.json()) as string[];
    assert.ok(types.includes('order:new'));
    const one = await request(`${t.hub.url}/api/samples/order:new`);
    const sample = (await one.body.json()) as { message: string; payload: { order: { number: string } } };
    assert.equal(sample.message, 'order:new');
    assert.ok(sample.payload.order.number);
    const missing = await request(`${t.hub.url}/api/samples/acme:nothing`);
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
  });
});
