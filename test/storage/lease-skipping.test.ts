import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import { newId } from '../../src/ids.js';
import type { Storage } from '../../src/storage/contract.js';
import type { LeasedMessage } from '../../src/storage/delivery-contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

/**
 * The lease that skips saturated mappings (their lanes are full) finds the other mappings' due
 * copies by seeking each mapping, not by walking the skipped ones' backlog; it must still honour
 * everything the plain lease does: due time, ordering keys, the limit, oldest first.
 */
for (const backend of backends()) {
  describe(`lease skipping saturated mappings (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    let storeId: string;
    const [A, B, C, D] = ['a', 'b', 'c', 'd'].map(() => newId()) as [string, string, string, string];
    const byMapping = new Map<string, string[]>();

    /** Every copy is due, each strictly later than the one made before it. */
    let dueAt = Date.now() - 1_000_000;

    /** Pushes `n` messages and routes each to `mapping` (with an ordering key, if given). */
    async function copiesFor(mapping: string, n: number, orderingKey: string | null = null) {
      for (let i = 0; i < n; i++) {
        await storage.push({ message: newIncoming(storeId) });
        await storage.intake(
          1,
          (batch) =>
            batch.map((m) => {
              const id = newId();
              byMapping.set(mapping, [...(byMapping.get(mapping) ?? []), id]);
              return {
                id: m.id,
                copies: [{ id, mapping_id: mapping, consumer: 'x', ordering_key: orderingKey }],
              };
            }),
          dueAt++, // a copy's attempt_at is the time intake made it
        );
      }
    }

    /** Hands leased copies back as they were: pending, due at their own time (sweeping would make them all due now). */
    async function putBack(leased: LeasedMessage[]) {
      for (const m of leased) {
        const ok = await storage.settle({
          id: m.id,
          store_id: storeId,
          lease: m.lease_owner,
          now: m.attempt_at!,
          outcome: { kind: 'released' },
          children: [],
          notifications: [],
          parameters: [],
        });
        assert.ok(ok);
      }
    }

    before(async () => {
      db = await freshDatabase(backend);
      storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
      const { store, token } = newStore('Lease');
      storeId = store.id;
      await storage.createStore(store, token);
      await copiesFor(A, 200); // the saturated mapping's backlog, the oldest
      await copiesFor(B, 3);
      await copiesFor(C, 2, 'same-order'); // the second waits behind the first
      await copiesFor(D, 1);
      // D's copy failed and is due again only in a minute
      const [d] = await storage.leaseDeliveries('lease-d', 1, Date.now(), 30_000, [A, B, C]);
      assert.equal(d?.mapping_id, D);
      const ok = await storage.settle({
        id: d.id,
        store_id: storeId,
        lease: 'lease-d',
        now: Date.now(),
        outcome: { kind: 'failing', attempt_at: Date.now() + 60_000, last_error: 'HTTP 500' },
        children: [],
        notifications: [],
        parameters: [],
      });
      assert.ok(ok);
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    const ids = (rows: LeasedMessage[]) => rows.map((r) => r.id);

    test('other mappings’ due copies, oldest first, none of the skipped, none waiting its turn', async () => {
      const leased = await storage.leaseDeliveries('lease-1', 10, Date.now() + 1, 30_000, [A]);
      assert.deepEqual(ids(leased), [...byMapping.get(B)!, byMapping.get(C)![0]!]);
      assert.ok(leased.every((m) => m.state === 'running' && m.lease_owner === 'lease-1'));
      await putBack(leased);
    });

    test('the limit holds over all mappings together', async () => {
      const leased = await storage.leaseDeliveries('lease-2', 2, Date.now() + 1, 30_000, [A]);
      assert.deepEqual(ids(leased), byMapping.get(B)!.slice(0, 2));
      await putBack(leased);
    });

    test('skipping every mapping with due copies finds nothing; copies already leased are not taken again', async () => {
      assert.deepEqual(await storage.leaseDeliveries('lease-3', 10, Date.now() + 1, 30_000, [A, B, C]), []);
      const first = await storage.leaseDeliveries('lease-4', 10, Date.now() + 1, 30_000, [A, C]);
      assert.deepEqual(ids(first), byMapping.get(B)!);
      assert.deepEqual(await storage.leaseDeliveries('lease-5', 10, Date.now() + 1, 30_000, [A, C]), []);
      await putBack(first);
    });

    test('a copy due later is taken once its time has come', async () => {
      const later = Date.now() + 61_000;
      const leased = await storage.leaseDeliveries('lease-6', 10, later, 30_000, [A, B, C]);
      assert.deepEqual(ids(leased), byMapping.get(D)!);
      await putBack(leased);
    });

    test('without skipping, the oldest due copies come first: the backlog', async () => {
      const leased = await storage.leaseDeliveries('lease-7', 5, Date.now() + 1, 30_000, []);
      assert.deepEqual(ids(leased), byMapping.get(A)!.slice(0, 5));
      await putBack(leased);
    });
  });
}
