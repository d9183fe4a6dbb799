import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NEW_LANE_ROOM } from '../../src/pipeline/delivery/lease-room.js';
import { backends } from '../helpers/databases.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { intakeTo, manualEngine, wrapStorage } from '../helpers/engine.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

/**
 * The engine reads a mapping once for all the copies a lease hands it at once (the read is
 * cached as a promise for 2 s), and again after forgetMappings. The storage is the real one; the
 * proxy only counts the reads.
 */
for (const backend of backends()) {
  describe(`delivery engine mapping reads (${backend})`, () => {
    test("a lease's copies share one read of their mapping", async () => {
      const t = await testHub(backend, { config: { role: 'api' } });
      const endpoint = await TestEndpoint.start();
      let reads = 0;
      const storage = wrapStorage(t.hub.storage, 'getMapping', (getMapping) => (...args) => {
        reads++;
        return getMapping(...args);
      });
      const engine = manualEngine(storage);
      try {
        const mapping = await createMapping(t, {
          url: `${endpoint.url}/svc`,
          messages: ['order:new'],
          options: { concurrency: 4 },
        });
        const pushAndRoute = async (n: number) => {
          for (let i = 0; i < n; i++) {
            const res = await t.push({ message: 'order:new', payload: { order: { number: `N${i}` } } });
            assert.equal(res.status, 201);
          }
          await intakeTo(storage, [mapping]);
        };
        // an engine with no lanes leases NEW_LANE_ROOM copies at most (lease-room.ts)
        await pushAndRoute(NEW_LANE_ROOM);
        assert.equal(await engine.step(), NEW_LANE_ROOM);
        await endpoint.waitFor(NEW_LANE_ROOM);
        assert.equal(reads, 1, `${NEW_LANE_ROOM} copies, one read`);

        engine.forgetMappings(t.storeId);
        await pushAndRoute(5);
        assert.equal(await engine.step(), 5);
        await endpoint.waitFor(NEW_LANE_ROOM + 5);
        assert.equal(reads, 2, 'read again once forgotten');
      } finally {
        await engine.stop(1000);
        await t.close();
        await endpoint.close();
      }
    });
  });
}
