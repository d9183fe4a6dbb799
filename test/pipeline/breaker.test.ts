import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { testHub } from '../helpers/hub.js';
import { call } from '../helpers/mappings.js';

/**
 * The circuit breaker per endpoint origin (src/pipeline/delivery/breaker.ts), through the public
 * API with a real endpoint that answers 500 and then recovers: while it is down the hub sends a
 * probe per cool-down, not every copy's retries, and once it is back every copy is delivered at
 * once rather than after its own backoff. Cool-downs are shortened for the test.
 */
for (const backend of backends()) {
  describe(`circuit breaker (${backend})`, () => {
    test('a failing endpoint gets a probe per cool-down; on recovery every copy goes at once', async () => {
      let healthy = false;
      const endpoint = await TestEndpoint.start(() =>
        healthy ? { body: {} } : { status: 500, body: { error: 'down' } },
      );
      const t = await testHub(backend, {
        workers: { engine: { breaker: { threshold: 5, coolDownMs: 300, maxCoolDownMs: 800 } } },
      });
      try {
        const mapping = await call(t, 'POST', 'mappings', {
          name: 'down.sink',
          url: `${endpoint.url}/sink`,
          token: 'k',
          messages: ['acme:down:x'],
          options: { concurrency: 2 },
        });
        assert.equal(mapping.status, 201, JSON.stringify(mapping.body));
        for (let i = 0; i < 100; i++) {
          assert.equal((await t.push({ message: 'acme:down:x', payload: { i } })).status, 201);
        }
        await endpoint.waitFor(5, 10_000);
        await new Promise((r) => setTimeout(r, 3000));
        const whileDown = endpoint.received.length;
        // 5 failures open it (2 more may have been in flight), then about one probe per cool-down
        // (300, 600, 800, 800 ms …): a dozen calls in 3 s, not 100 copies and their retries
        assert.ok(whileDown <= 20, `${whileDown} calls while the endpoint was down`);
        const metrics = await t.hub.app.inject({ method: 'GET', url: '/metrics' });
        assert.match(metrics.body, /^switchyard_delivery_circuits_open 1$/m);
        const counts = (await call(t, 'GET', 'queues')).body;
        assert.equal(counts.parked, 0, 'the breaker parks nothing');
        const endpoints = (await call(t, 'GET', 'endpoints')).body;
        assert.equal(endpoints.length, 1);
        assert.equal(endpoints[0].origin, new URL(endpoint.url).origin);
        assert.deepEqual(endpoints[0].mappings, ['down.sink']);
        assert.match(endpoints[0].circuit, /^(open|half-open)$/);

        healthy = true;
        const recoveredAt = Date.now();
        await eventually(
          async () => {
            const list = (
              await call(t, 'GET', `queues/archived?source=accepted&state=completed&per_page=100`)
            ).body as unknown[];
            return list.length === 100;
          },
          15_000,
          'all 100 copies delivered',
        );
        const took = Date.now() - recoveredAt;
        // the next probe (at most 800 ms), then the held copies and those waiting their backoff
        assert.ok(took < 8_000, `delivered ${took} ms after the recovery`);
        const after = await t.hub.app.inject({ method: 'GET', url: '/metrics' });
        assert.match(after.body, /^switchyard_delivery_circuits_open 0$/m);
      } finally {
        await t.close();
        await endpoint.close();
      }
    });

    test('a reset closes the circuit at once: the held copies go without waiting for the probe', async () => {
      let healthy = false;
      const endpoint = await TestEndpoint.start(() => (healthy ? { body: {} } : { status: 503, body: {} }));
      const t = await testHub(backend, {
        workers: { engine: { breaker: { threshold: 3, coolDownMs: 60_000, maxCoolDownMs: 60_000 } } },
      });
      try {
        const created = await call(t, 'POST', 'mappings', {
          name: 'reset.sink',
          url: `${endpoint.url}/sink`,
          token: 'k',
          messages: ['acme:reset:x'],
          options: { concurrency: 1 },
        });
        assert.equal(created.status, 201);
        for (let i = 0; i < 20; i++) await t.push({ message: 'acme:reset:x', payload: { i } });
        const origin = new URL(endpoint.url).origin;
        await eventually(
          async () => (await call(t, 'GET', 'endpoints')).body[0]?.circuit === 'open',
          10_000,
          'open',
        );
        healthy = true;
        const unknown = await call(t, 'POST', 'endpoints/reset', { origin: 'http://elsewhere.example' });
        assert.equal(unknown.status, 404);
        const reset = await call(t, 'POST', 'endpoints/reset', { origin });
        assert.equal(reset.status, 200, JSON.stringify(reset.body));
        assert.equal(reset.body.circuit, 'closed');
        // well before the 60 s cool-down: the reset made the failed copies due and the held ones go
        await endpoint.waitFor(3 + 20, 10_000);
      } finally {
        await t.close();
        await endpoint.close();
      }
    });
  });
}
