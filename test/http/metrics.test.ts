import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

test('GET /metrics: Prometheus text with pushes, intake results, deliveries and HTTP timings by route', async () => {
  const t = await testHub('sqlite');
  const endpoint = await TestEndpoint.start();
  try {
    await createMapping(t, { url: `${endpoint.url}/m`, messages: ['acme:metric:x'] });
    assert.equal((await t.push({ message: 'acme:metric:x', payload: {} })).status, 201);
    assert.equal((await t.push({ message: 'acme:unmapped:x', payload: {} })).status, 201);
    await endpoint.waitFor(1);
    const text = await eventually(async () => {
      const res = await t.hub.app.inject({ method: 'GET', url: '/metrics' });
      return res.body.includes('switchyard_deliveries_total{outcome="completed"} 1') ? res : undefined;
    });
    assert.equal(text.statusCode, 200);
    const doc = (await t.hub.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    assert.ok(doc.paths['/metrics'], 'the OpenAPI document lists /metrics');
    assert.match(String(text.headers['content-type']), /text\/plain/);
    assert.match(text.body, /^switchyard_messages_pushed_total 2$/m);
    assert.match(text.body, /^switchyard_intake_messages_total\{result="routed"\} 1$/m);
    assert.match(text.body, /^switchyard_intake_messages_total\{result="skipped"\} 1$/m);
    assert.match(
      text.body,
      /switchyard_http_request_duration_seconds_count\{method="POST",route="\/api\/stores\/:store_id\/messages",status_code="201"\} 2/,
    );
    assert.match(text.body, /^switchyard_process_resident_memory_bytes \d+/m);
    // every acknowledged push waited for a WAL sync: there were some, and they were timed
    assert.match(text.body, /^switchyard_sqlite_wal_sync_seconds_count [1-9]\d*$/m);
    assert.doesNotMatch(text.body, new RegExp(t.storeId), 'no store ids in labels');
  } finally {
    await t.close();
    await endpoint.close();
  }
});
