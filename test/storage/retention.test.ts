import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import { idFloor, newId } from '../../src/ids.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

const DAY = 24 * 60 * 60 * 1000;

/** An id as newId() would have made it at `ms` (the floor of that millisecond plus a random tail). */
function idAt(ms: number): string {
  return `${idFloor(ms).slice(0, 24)}${newId().slice(24)}`;
}

/**
 * Retention deletes archived messages archived before the cut-off, with their attempts and
 * notifications, in every store, a bounded batch per call — and nothing else: not a recent
 * archive, not an old message archived recently, not anything still in the incoming or accepted
 * queue however old, not a message whose copies still share its payload.
 */
for (const backend of backends()) {
  describe(`retention of the archive (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    const now = Date.now();
    const old = now - 40 * DAY;
    const cutoff = now - 30 * DAY;
    const ids: Record<string, string> = {};

    /** A message pushed at `created` and archived by intake at `archived`, with one copy if `mapping`. */
    async function archived(
      name: string,
      storeId: string,
      created: number,
      archivedAt: number,
      mapping?: string,
    ) {
      const id = idAt(created);
      ids[name] = id;
      await storage.push({ message: { ...newIncoming(storeId), id, created_at: created } });
      await storage.intake(
        10,
        (batch) =>
          batch.map((m) => ({
            id: m.id,
            copies: mapping
              ? [{ id: idAt(created), mapping_id: mapping, consumer: 'x', ordering_key: null }]
              : [],
            ...(mapping ? {} : { reason: 'no mapping' }),
          })),
        archivedAt,
      );
    }

    before(async () => {
      db = await freshDatabase(backend);
      storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
      const a = newStore('A');
      const b = newStore('B');
      await storage.createStore(a.store, a.token);
      await storage.createStore(b.store, b.token);
      const mapping = newId();
      // old, archived long ago, with a copy delivered long ago (attempt and notification rows)
      await archived('oldParent', a.store.id, old, old, mapping);
      const [copy] = await storage.leaseDeliveries('lease', 10, now, 30_000, []);
      assert.ok(copy);
      ids.oldCopy = copy.id;
      const held = await storage.settle({
        id: copy.id,
        store_id: a.store.id,
        lease: copy.lease_owner,
        now: old,
        outcome: { kind: 'completed' },
        attempt: {
          id: newId(),
          message_id: copy.id,
          store_id: a.store.id,
          attempted_at: old,
          duration_ms: 3,
          url: 'http://127.0.0.1:9/x',
          status_code: 200,
          error: null,
          response_excerpt: '{}',
        },
        children: [],
        notifications: [
          {
            record: {
              id: newId(),
              store_id: a.store.id,
              message_id: copy.id,
              fingerprint: 'f',
              level: 'info',
              subject: 'done',
              description: null,
              reference_type: null,
              reference_id: null,
              reference_token: null,
              origin: null,
              attributes: null,
              occurrences: 1,
              logged_on: old,
              last_update: old,
            },
            message: newIncoming(a.store.id, 'notification:info'),
          },
        ],
        parameters: [],
      });
      assert.ok(held);
      // the notification's own message is new: archive it now, so it is recent
      await storage.intake(
        10,
        (batch) => batch.map((m) => ({ id: m.id, copies: [], reason: 'no mapping' })),
        now,
      );
      await archived('recent', a.store.id, now, now);
      await archived('oldButArchivedRecently', a.store.id, old, now);
      await archived('otherStoreOld', b.store.id, old, old);
      // old, still waiting in the accepted queue
      await archived('oldWithPendingCopy', a.store.id, old, old, newId());
      ids.pendingCopy = (await storage.listQueue(a.store.id, 'accepted', {}, { page: 1, per_page: 10 }))
        .items[0]!.id;
      // old, never taken in by intake
      ids.oldIncoming = idAt(old);
      await storage.push({ message: { ...newIncoming(a.store.id), id: ids.oldIncoming, created_at: old } });
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    test('purges only what was archived before the cut-off, with its attempts and notifications', async () => {
      assert.equal((await storage.notificationsFor(ids.oldCopy!)).length, 1);
      assert.equal(await storage.purgeArchived(cutoff, 1), 1, 'the limit holds');
      // a parent goes only once no copy shares its payload: oldParent after oldCopy, in a later call
      let rest = 0;
      for (
        let n = await storage.purgeArchived(cutoff, 100);
        n > 0;
        n = await storage.purgeArchived(cutoff, 100)
      )
        rest += n;
      // oldParent, oldCopy, otherStoreOld — not oldWithPendingCopy, whose copy still needs its payload
      assert.equal(1 + rest, 3);

      const stores = Object.fromEntries(
        await Promise.all(
          Object.entries(ids).map(async ([name, id]) => {
            for (const s of await storage.listStores()) {
              if (await storage.getMessage(s.id, id)) return [name, true] as const;
            }
            return [name, false] as const;
          }),
        ),
      );
      assert.deepEqual(stores, {
        oldParent: false,
        oldCopy: false,
        recent: true,
        oldButArchivedRecently: true,
        otherStoreOld: false,
        oldWithPendingCopy: true,
        pendingCopy: true,
        oldIncoming: true,
      });
      assert.deepEqual(await storage.attemptsFor(ids.oldCopy!), []);
      const pending = (await storage.listStores()).find((x) => x.name === 'A')!;
      assert.equal((await storage.getMessage(pending.id, ids.pendingCopy!))?.payload, '{}');
      assert.deepEqual(await storage.notificationsFor(ids.oldCopy!), []);
    });
  });
}
