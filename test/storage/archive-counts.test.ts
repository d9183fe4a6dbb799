import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

/**
 * The archive figure of the queue counts (archive-counts.ts), on every backend. The policy is
 * scaled down so a handful of rows behaves as a large archive: from 3 archived messages on, a
 * count is reused for exactly 1.5 s (its cost times a million, capped).
 */
const POLICY = { fromRows: 3, factor: 1_000_000, maxMs: 1_500 };

for (const backend of backends()) {
  describe(`archive counts (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    let storeId: string;

    before(async () => {
      db = await freshDatabase(backend);
      storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir, archiveCounts: POLICY });
      const { store, token } = newStore('Counts');
      storeId = store.id;
      await storage.createStore(store, token);
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    /** Pushes one message and archives it (no mapping takes it). */
    async function pushAndArchive(): Promise<void> {
      await storage.push({ message: newIncoming(storeId) });
      const archived = await storage.intake(
        100,
        (batch) => batch.map((m) => ({ id: m.id, copies: [], reason: 'no mapping' })),
        Date.now(),
      );
      assert.equal(archived, 1);
    }

    /** Asks for the counts until the archive holds `n`, for at most 5 s. */
    async function countsUntilArchived(n: number) {
      const seen = new Set<number>();
      const until = Date.now() + 5_000;
      for (;;) {
        const counts = await storage.queueCounts(storeId);
        seen.add(counts.archived);
        assert.equal(counts.incoming, 0, 'the work queues are counted every time');
        if (counts.archived === n || Date.now() > until) return { counts, seen };
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    test('a small archive is counted on every call', async () => {
      await pushAndArchive();
      assert.equal((await storage.queueCounts(storeId)).archived, 1);
      await pushAndArchive();
      assert.equal((await storage.queueCounts(storeId)).archived, 2);
    });

    test("a large archive's count is reused for a moment; the work queues are counted every time", async () => {
      await pushAndArchive();
      // 3 archived: this count is the first one kept
      const caughtUp = await countsUntilArchived(3);
      assert.equal(caughtUp.counts.archived, 3);
      assert.deepEqual([...caughtUp.seen], [3]);

      await pushAndArchive();
      const right = await storage.queueCounts(storeId);
      assert.equal(right.incoming, 0);
      assert.equal(right.archived, 3, 'the archive figure lags…');
      const later = await countsUntilArchived(4);
      assert.equal(later.counts.archived, 4, '…for a bounded time');
      assert.ok(
        [...later.seen].every((n) => n === 3 || n === 4),
        [...later.seen].join(),
      );
    });
  });
}
