import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { DeliveryEngine } from '../../src/pipeline/delivery/engine.js';
import { backends } from '../helpers/databases.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { intakeTo, manualEngine, wrapStorage } from '../helpers/engine.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

/**
 * While a mapping's lane is saturated, the engine's leases skip it. One is not repeated before
 * twenty times its own duration, if that is longer than the 25 ms interval (a hub with many
 * mappings holding due copies has many to seek). The storage is the real one; the proxy only
 * makes the lease slow and counts the skipping leases.
 */
for (const backend of backends()) {
  describe(`delivery engine, skipping saturated lanes (${backend})`, () => {
    test('a costly lease that skips a saturated lane backs off by its cost', async () => {
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
          await new Promise((r) => setTimeout(r, 30)); // a costly search (many mappings to seek)
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
        // every 25 ms would be forty; the first took 30+ ms, so the next waits 600+ ms
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

    test('a wake-up that meets the rate limit is not lost: the next skipping lease runs on its own', async () => {
      const t = await testHub(backend, { config: { role: 'api' } });
      let open: () => void = () => {};
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const endpoint = await TestEndpoint.start(async (r) => {
        if (r.path === '/slow') await gate;
        return { body: {} };
      });
      const storage = t.hub.storage;
      // an engine whose wake-ups run a step, as its worker loop would (and nothing else does)
      // (a wider rate window than the hub's 25 ms: the push and intake below must fit inside it
      // on a busy machine too)
      const engine: DeliveryEngine = new DeliveryEngine(
        storage,
        pino({ level: 'silent' }),
        { capacity: () => void engine.step(), incoming: () => {} },
        { excludingLeaseEveryMs: 1000 },
      );
      try {
        const slow = await createMapping(t, {
          name: 'erp.slow',
          url: `${endpoint.url}/slow`,
          messages: ['order:new'],
          options: { concurrency: 1 },
        });
        const fast = await createMapping(t, {
          name: 'mail.fast',
          url: `${endpoint.url}/fast`,
          messages: ['order:new'],
        });
        for (let i = 0; i < 3; i++) {
          assert.equal(
            (await t.push({ message: 'order:new', payload: { order: { number: `S${i}` } } })).status,
            201,
          );
        }
        await intakeTo(storage, [slow]);
        assert.equal(await engine.step(), 3); // one held at the gate, two queued: the lane is saturated
        assert.equal(await engine.step(), 0); // a skipping lease: nothing for other mappings yet
        // a copy for the other mapping, and a wake-up within the rate limit
        assert.equal(
          (await t.push({ message: 'order:new', payload: { order: { number: 'F' } } })).status,
          201,
        );
        await intakeTo(storage, [fast]);
        assert.equal(await engine.step(), 0, 'rate-limited');
        const [received] = await endpoint.waitFor(2, 5000);
        assert.deepEqual(
          endpoint.received.map((r) => r.path).sort(),
          ['/fast', '/slow'],
          `${received?.path}`,
        );
      } finally {
        open();
        await engine.stop(1000);
        await t.close();
        await endpoint.close();
      }
    });
  });
}
