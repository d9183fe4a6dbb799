import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseMapping } from '../../src/pipeline/mapping-validation.js';
import { newMapping } from '../../src/storage/mapping-contract.js';
import { backends } from '../helpers/databases.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call, mappingBody } from '../helpers/mappings.js';

/**
 * The hub's caps on what a mapping may ask for (settings mappingMaxConcurrency and
 * mappingMaxTimeoutMs): more is a 422 naming the option and the cap, and a mapping stored with
 * more before the cap (here: written into storage directly) runs at the cap all the same.
 */
for (const backend of backends()) {
  describe(`mapping caps (${backend})`, () => {
    let t: TestHub;
    let endpoint: TestEndpoint;
    before(async () => {
      endpoint = await TestEndpoint.start(() => ({ delayMs: 100, body: {} }));
      t = await testHub(backend, { config: { mappingMaxConcurrency: 4, mappingMaxTimeoutMs: 5000 } });
    });
    after(async () => {
      await t.close();
      await endpoint.close();
    });

    test('a mapping asking for more than a cap is a 422 naming the option and the cap', async () => {
      const tooMany = await call(t, 'POST', 'mappings', mappingBody({ options: { concurrency: 5 } }));
      assert.equal(tooMany.status, 422, JSON.stringify(tooMany.body));
      assert.deepEqual(tooMany.body.errors, {
        '/options/concurrency': ['must be at most 4 on this hub (its mappingMaxConcurrency setting)'],
      });
      const tooLong = await call(t, 'POST', 'mappings', mappingBody({ options: { timeout_ms: 5001 } }));
      assert.equal(tooLong.status, 422);
      assert.deepEqual(Object.keys(tooLong.body.errors), ['/options/timeout_ms']);
      // the default timeout (180 s) is above this hub's cap: a mapping must say what it wants
      const fits = await call(
        t,
        'POST',
        'mappings',
        mappingBody({ options: { concurrency: 4, timeout_ms: 5000 } }),
      );
      assert.equal(fits.status, 201, JSON.stringify(fits.body));
      const raised = await call(t, 'PUT', `mappings/${fits.body.id}`, { options: { concurrency: 40 } });
      assert.equal(raised.status, 422);
      assert.equal((await call(t, 'GET', `mappings/${fits.body.id}`)).body.options.concurrency, 4);
    });

    test('a stored mapping asking for more runs at the cap', async () => {
      const parsed = parseMapping({
        name: 'caps.stored',
        url: `${endpoint.url}/svc`,
        token: 'k',
        messages: ['acme:caps:x'],
        options: { concurrency: 50 },
      });
      assert.ok(parsed.ok);
      await t.hub.storage.createMapping(newMapping(parsed.fields, t.storeId, Date.now()));
      for (let i = 0; i < 20; i++) {
        assert.equal((await t.push({ message: 'acme:caps:x', payload: { i } })).status, 201);
      }
      await endpoint.waitFor(20, 15_000);
      assert.ok(endpoint.maxInFlight <= 4, `${endpoint.maxInFlight} requests at once`);
      assert.ok(endpoint.maxInFlight >= 2, `${endpoint.maxInFlight} requests at once`);
    });
  });
}
