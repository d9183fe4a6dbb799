import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import { newId } from '../../src/ids.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import type { SqlStorage } from '../../src/storage/sql-storage.js';
import { backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

const PAYLOAD = JSON.stringify({
  order: { number: 'R1', lines: Array.from({ length: 60 }, (_, i) => ({ sku: `S${i}` })) },
});

/**
 * Copies are written without the payload they share with their parent; every read that shows or
 * delivers a copy fills it in, and a copy whose payload is edited keeps its own.
 */
for (const backend of backends()) {
  describe(`copies share their parent's payload (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    let storeId: string;
    let parentId: string;
    const copies = [newId(), newId()];

    const stored = async (id: string) =>
      (
        await (storage as SqlStorage).db
          .selectFrom('messages')
          .select('payload')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).payload;

    before(async () => {
      db = await freshDatabase(backend);
      storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
      const { store, token } = newStore('Shared');
      storeId = store.id;
      await storage.createStore(store, token);
      const m = newIncoming(storeId, 'order:new', PAYLOAD);
      parentId = m.id;
      await storage.push({ message: m });
      await storage.intake(
        10,
        (batch) =>
          batch.map((x) => ({
            id: x.id,
            copies: copies.map((id) => ({ id, mapping_id: newId(), consumer: 'x', ordering_key: null })),
          })),
        Date.now(),
      );
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    test('the payload is stored once, and a copy reads and leases with it', async () => {
      assert.equal(await stored(parentId), PAYLOAD);
      for (const id of copies) assert.equal(await stored(id), '');
      for (const id of copies) assert.equal((await storage.getMessage(storeId, id))?.payload, PAYLOAD);
      // a listing reads no payload at all (its queue items show none)
      const listed = await storage.listQueue(storeId, 'accepted', {}, { page: 1, per_page: 10 });
      assert.deepEqual(listed.items.map((m) => m.id).sort(), [...copies].sort());
      for (const item of listed.items) assert.equal('payload' in item, false);
      const leased = await storage.leaseDeliveries('lease', 10, Date.now(), 30_000, []);
      assert.deepEqual(leased.map((m) => [m.id, m.payload]).sort(), copies.map((id) => [id, PAYLOAD]).sort());
    });

    test('a parked copy given a new payload keeps it; the parent and the other copy keep theirs', async () => {
      // both copies are still leased by the first test
      const copy = { id: copies[0]!, lease_owner: 'lease' };
      const held = await storage.settle({
        id: copy.id,
        store_id: storeId,
        lease: copy.lease_owner,
        now: Date.now(),
        outcome: { kind: 'parked', last_error: 'HTTP 410', reason: 'gone' },
        children: [],
        notifications: [],
        parameters: [],
      });
      assert.ok(held);
      const edited = JSON.stringify({ order: { number: 'R1-fixed' } });
      const retried = await storage.retryMessage(storeId, copy.id, Date.now(), edited);
      assert.equal(retried?.payload, edited);
      assert.equal(await stored(copy.id), edited);
      assert.equal(await stored(parentId), PAYLOAD);
      const other = copies.find((id) => id !== copy.id)!;
      assert.equal((await storage.getMessage(storeId, other))?.payload, PAYLOAD);
    });
  });
}
