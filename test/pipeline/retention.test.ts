import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import { idFloor, newId } from '../../src/ids.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends } from '../helpers/databases.js';
import { eventually } from '../helpers/endpoint.js';
import { testHub } from '../helpers/hub.js';
import { newIncoming } from '../helpers/messages.js';

const DAY = 24 * 60 * 60 * 1000;

/** `retentionDays` is applied by the housekeeping worker: an old archive goes, a recent one stays. */
for (const backend of backends()) {
  test(`the hub purges what its retention setting lets go (${backend})`, async () => {
    let storage: Storage | undefined;
    // the messages are written before the store exists (the hub creates its default store only in
    // an empty database); retention finds the store once it is created, below
    const { store, token } = newStore('Retention');
    const storeId = store.id;
    const old = Date.now() - 3 * DAY;
    const oldId = `${idFloor(old).slice(0, 24)}${newId().slice(24)}`;
    const recentId = newId();
    const t = await testHub(backend, {
      config: { retentionDays: 2 },
      workers: { housekeepingEveryMs: 50 },
      // the archive is written before the hub's own workers start, so nothing races it
      openStorage: async (config) => {
        storage = await openStorage(config);
        await storage.push({ message: { ...newIncoming(storeId), id: oldId, created_at: old } });
        await storage.intake(10, (b) => b.map((m) => ({ id: m.id, copies: [], reason: 'no mapping' })), old);
        await storage.push({ message: { ...newIncoming(storeId), id: recentId } });
        await storage.intake(
          10,
          (b) => b.map((m) => ({ id: m.id, copies: [], reason: 'no mapping' })),
          Date.now(),
        );
        return storage;
      },
    });
    try {
      await storage!.createStore(store, token);
      await eventually(async () => (await storage!.getMessage(storeId, oldId)) === undefined, 5000);
      assert.equal((await storage!.getMessage(storeId, recentId))?.state, 'skipped');
    } finally {
      await t.close();
    }
  });
}
