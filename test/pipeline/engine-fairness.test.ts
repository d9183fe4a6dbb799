import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { intakeTo, manualEngine, wrapStorage } from '../helpers/engine.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

/**
 * While a mapping's lane is saturated, the engine's leases skip it. One that found nothing is not
 * repeated before twenty times its own duration (a hub with many mappings holding due copies has
 * many to seek). The storage is the real one; the proxy only makes the lease slow and counts the
 * skipping leases.
 */
for (const backend of backends()) {
  describe(`delivery engine, skipping saturated lanes (${backend})`, () => {
    test('a costly lease that skips a saturated lane and finds nothing backs off', async () => {
      const t = await testHub(backend, { config: { role: 'api' } });
      let open: () => void = () => {};
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const endpoint = await TestEndpoint.start(async () => {
        await gate;
        return { body: {} };
      });
      let skipping = 0;
      const storage = wrapStorage(t.hub.storage, 'leaseDeliveries', (lease) => async (...args) => {
        if (args[4].length > 0) {
          skipping++;
          await new Promise((r) => setTimeout(r, 30)); // the walk past a large backlog
        }
        return lease(...args);
      });
      const engine = manualEngine(storage);
      try {
        const mapping = await createMapping(t, {
          url: `${endpoint.url}/slow`,
          messages: ['order:new'],
          options: { concurrency: 1 },
        });
        for (let i = 0; i < 5; i++) {
          const res = await t.push({ message: 'order:new', payload: { order: { number: `N${i}` } } });
          assert.equal(res.status, 201);
        }
        await intakeTo(storage, [mapping]);
        assert.equal(await engine.step(), 5); // one in flight (held at the gate), four queued
        await endpoint.waitFor(1);

        const until = Date.now() + 1000;
        while (Date.now() < until) {
          await engine.step();
          await new Promise((r) => setTimeout(r, 10));
        }
        // every 25 ms would be forty; the first found nothing in 30+ ms, so the next waits 600+ ms
        assert.ok(skipping >= 1 && skipping <= 2, `${skipping} skipping leases in 1 s`);
        open();
        await endpoint.waitFor(5);
      } finally {
        open();
        await engine.stop(1000);
        await t.close();
        await endpoint.close();
      }
    });
  });
}
