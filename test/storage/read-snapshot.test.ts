import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

/**
 * Reads that answer two figures together — the queue counts (work queues and archive), a listing's
 * page and its total — take them from one snapshot on every backend: a message that moves while
 * they run is in both figures or in neither, never counted twice or lost between them.
 */
const MESSAGES = 200;

for (const backend of backends()) {
  describe(`reads in one snapshot (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    let storeId: string;

    before(async () => {
      db = await freshDatabase(backend);
      storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
      const { store, token } = newStore('Snapshot');
      storeId = store.id;
      await storage.createStore(store, token);
      for (let i = 0; i < MESSAGES; i++) await storage.push({ message: newIncoming(storeId) });
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    test('counts and listings agree while messages move from incoming to the archive', async () => {
      // the writer archives one message a commit, as fast as it can, while the readers ask
      let moving = true;
      const writer = (async () => {
        try {
          while (
            (await storage.intake(
              1,
              (batch) => batch.map((m) => ({ id: m.id, copies: [], reason: 'no mapping' })),
              Date.now(),
            )) > 0
          );
        } finally {
          moving = false;
        }
      })();
      const torn: string[] = [];
      let reads = 0;
      const until = Date.now() + 20_000;
      while (moving && Date.now() < until) {
        const [counts, incoming, archived] = await Promise.all([
          storage.queueCounts(storeId),
          storage.listQueue(storeId, 'incoming', {}, { page: 1, per_page: MESSAGES }),
          storage.listQueue(storeId, 'archived', {}, { page: 1, per_page: MESSAGES }),
        ]);
        reads++;
        if (counts.incoming + counts.archived !== MESSAGES)
          torn.push(`counts: ${counts.incoming} incoming + ${counts.archived} archived`);
        for (const [name, l] of [
          ['incoming', incoming],
          ['archived', archived],
        ] as const)
          if (l.items.length !== l.total)
            torn.push(`${name}: a page of ${l.items.length}, a total of ${l.total}`);
      }
      await writer;
      assert.ok(reads >= 5, `only ${reads} reads happened while messages moved`);
      assert.deepEqual(torn, [], `${torn.length} of ${reads} reads disagreed with themselves`);
      const end = await storage.queueCounts(storeId);
      assert.deepEqual([end.incoming, end.archived], [0, MESSAGES]);
    });
  });
}
