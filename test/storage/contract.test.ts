import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import { newId } from '../../src/ids.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

/**
 * The behaviour suite of the storage contract, run unchanged against every backend. It talks to
 * the contract only, never to SQL, so a new adapter passes it or is wrong.
 */
for (const backend of backends()) {
  describe(`storage contract (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    let storeId: string;

    const incoming = (message?: string, payload?: string) => newIncoming(storeId, message, payload);

    before(async () => {
      db = await freshDatabase(backend);
      storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
      const { store, token } = newStore('Contract');
      storeId = store.id;
      await storage.createStore(store, token);
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    test('migrations are idempotent', async () => {
      await storage.migrate();
      await storage.migrate();
      await storage.ping();
    });

    test('stores and tokens', async () => {
      assert.equal((await storage.getStore(storeId))?.name, 'Contract');
      assert.equal(await storage.getStore(newId()), undefined);
      assert.equal(await storage.countStores(), 1);
      const tokens = await storage.listTokens(storeId);
      assert.equal(tokens.length, 1);
      assert.deepEqual(await storage.activeTokenHashes(storeId), [tokens[0]!.token_hash]);
      assert.equal(await storage.revokeToken(storeId, tokens[0]!.id, Date.now()), true);
      assert.equal(await storage.revokeToken(storeId, tokens[0]!.id, Date.now()), false);
      assert.deepEqual(await storage.activeTokenHashes(storeId), []);
    });

    test('concurrent pushes are all committed, in one or more group commits', async () => {
      const messages = Array.from({ length: 300 }, (_, i) =>
        incoming('acme:bulk:new', JSON.stringify({ i })),
      );
      const outcomes = await Promise.all(messages.map((message) => storage.push({ message })));
      assert.ok(outcomes.every((o) => o.kind === 'created'));
      const { total } = await storage.listQueue(
        storeId,
        'incoming',
        { message: 'acme:bulk:new' },
        { page: 1, per_page: 10 },
      );
      assert.equal(total, 300);
      assert.deepEqual(await storage.availableMessages(storeId), ['acme:bulk:new']);
    });

    test('idempotency keys: a replay returns the first answer; an expired key is reusable', async () => {
      const now = Date.now();
      const first = incoming();
      const a = await storage.push({
        message: first,
        idempotency: { key: 'k', response: 'A', expires_before: now - 1000 },
      });
      const b = await storage.push({
        message: incoming(),
        idempotency: { key: 'k', response: 'B', expires_before: now - 1000 },
      });
      assert.deepEqual(a, { kind: 'created', routed: false });
      assert.deepEqual(b, { kind: 'replayed', response: 'A' });
      const c = await storage.push({
        message: incoming(),
        idempotency: { key: 'k', response: 'C', expires_before: now + 1000 },
      });
      assert.deepEqual(c, { kind: 'created', routed: false });
      assert.equal(await storage.purgeIdempotencyKeys(now + 60_000), 1);
    });

    test('intake applies decisions atomically: copies, duplicates, skipped and invalid', async () => {
      // drain what earlier tests left
      while (
        (await storage.intake(
          500,
          (batch) => batch.map((m) => ({ id: m.id, copies: [], reason: 'no mapping' })),
          Date.now(),
        )) > 0
      ) {}
      const routed = incoming('order:new', '{"order":{"number":"R1"}}');
      const dup = incoming('order:new', '{"order":{"number":"R1"}}');
      const bad = incoming('order:new', '{}');
      for (const message of [routed, dup, bad]) await storage.push({ message });
      const now = Date.now();
      const mappingId = newId();
      let round = 0;
      const processed = await storage.intake(
        10,
        (batch) =>
          batch.map((m) => {
            if (m.id === bad.id) return { id: m.id, invalid: 'schema', copies: [] };
            round++;
            return {
              id: m.id,
              copies: [
                {
                  id: newId(),
                  mapping_id: mappingId,
                  consumer: 'shop.orders',
                  ordering_key: null,
                  dedup: { key: 'R1', expires_at: now + 60_000 },
                },
                { id: newId(), mapping_id: newId(), consumer: 'mail.confirm', ordering_key: null },
              ],
            };
          }),
        now,
      );
      assert.equal(processed, 3);
      assert.equal(round, 2);
      const first = await storage.getMessage(storeId, routed.id);
      assert.equal(first?.queue_name, 'archived');
      assert.equal(first?.state, 'completed');
      const children = await storage.children(storeId, routed.id);
      assert.deepEqual(
        children.map((c) => [c.queue_name, c.state]),
        [
          ['accepted', 'pending'],
          ['accepted', 'pending'],
        ],
      );
      const dupChildren = await storage.children(storeId, dup.id);
      assert.deepEqual(dupChildren.map((c) => [c.queue_name, c.state]).sort(), [
        ['accepted', 'pending'],
        ['archived', 'skipped'],
      ]);
      const skipped = await storage.listQueue(
        storeId,
        'archived',
        { state: 'skipped', source: 'accepted' },
        { page: 1, per_page: 10 },
      );
      assert.equal(skipped.total, 1);
      assert.equal(skipped.items[0]!.reason, 'duplicate');
      assert.equal(skipped.items[0]!.parent_id, dup.id);
      const invalid = await storage.getMessage(storeId, bad.id);
      assert.equal(invalid?.state, 'invalid');
      assert.equal(invalid?.reason, 'schema');
      assert.deepEqual(await storage.children(storeId, bad.id), []);
      const counts = await storage.queueCounts(storeId);
      assert.equal(counts.incoming, 0);
      assert.equal(counts.pending, 3);
    });

    test('push-time routing: a routed push is written once, archived, beside its copies', async () => {
      const mappingId = newId();
      let ready = false;
      const applied: string[] = [];
      let deferred = 0;
      storage.routePushes({
        ready: () => ready,
        decide: (batch) =>
          batch.map((m) => {
            if (m.payload === '{"bad":true}') return { id: m.id, invalid: 'schema', copies: [] };
            if (m.message !== 'order:new') return { id: m.id, copies: [], reason: 'no mapping' };
            return {
              id: m.id,
              copies: [
                {
                  id: newId(),
                  mapping_id: mappingId,
                  consumer: 'shop.orders',
                  ordering_key: null,
                  dedup: { key: 'P1', expires_at: Date.now() + 60_000 },
                },
              ],
            };
          }),
        applied: (decisions) => applied.push(...decisions.map((d) => d.id)),
        deferred: () => deferred++,
      });
      try {
        // not ready: the push is queued for intake as before, and the routing is told
        const queued = incoming('order:new', '{"order":{"number":"P1"}}');
        assert.deepEqual(await storage.push({ message: queued }), { kind: 'created', routed: false });
        assert.equal((await storage.getMessage(storeId, queued.id))?.queue_name, 'incoming');
        assert.ok(deferred >= 1, 'the routing was told');
        const deferredBefore = deferred;
        await storage.intake(10, (batch) => batch.map((m) => ({ id: m.id, copies: [] })), Date.now());

        ready = true;
        const [first, second, other, bad] = [
          incoming('order:new', '{"order":{"number":"P1"}}'),
          incoming('order:new', '{"order":{"number":"P1"}}'),
          incoming('acme:other:new', '{}'),
          incoming('order:new', '{"bad":true}'),
        ];
        const outcomes = await Promise.all(
          [first, second, other, bad].map((message) => storage.push({ message })),
        );
        assert.ok(outcomes.every((o) => o.kind === 'created' && o.routed));
        assert.deepEqual(applied.sort(), [first, second, other, bad].map((m) => m.id).sort());
        assert.equal(deferred, deferredBefore, 'routed pushes defer nothing');

        const stateOf = async (id: string) => {
          const m = await storage.getMessage(storeId, id);
          return [m?.queue_name, m?.state, m?.reason];
        };
        assert.deepEqual(await stateOf(first.id), ['archived', 'completed', null]);
        assert.deepEqual(await stateOf(second.id), ['archived', 'skipped', 'duplicate']);
        assert.deepEqual(await stateOf(other.id), ['archived', 'skipped', 'no mapping']);
        assert.deepEqual(await stateOf(bad.id), ['archived', 'invalid', 'schema']);
        const copies = await storage.children(storeId, first.id);
        assert.deepEqual(
          copies.map((c) => [c.queue_name, c.state]),
          [['accepted', 'pending']],
        );
        const dup = await storage.children(storeId, second.id);
        assert.deepEqual(
          dup.map((c) => [c.queue_name, c.state]),
          [['archived', 'skipped']],
        );
        // the copy is deliverable like one made by intake
        const leased = await storage.leaseDeliveries('lease-p', 10, Date.now() + 1, 30_000, []);
        assert.ok(leased.some((m) => m.parent_id === first.id && m.mapping_id === mappingId));
        await storage.sweepLeases(Date.now(), true);
      } finally {
        storage.routePushes(undefined);
      }
    });

    test('an identifier key is free again once it expires', async () => {
      const mappingId = newId();
      const take = async (now: number) => {
        const m = incoming('order:new', '{"order":{"number":"R9"}}');
        await storage.push({ message: m });
        await storage.intake(
          10,
          (batch) =>
            batch.map((b) => ({
              id: b.id,
              copies: [
                {
                  id: newId(),
                  mapping_id: mappingId,
                  consumer: 'x',
                  ordering_key: null,
                  dedup: { key: 'R9', expires_at: now + 1000 },
                },
              ],
            })),
          now,
        );
        return (await storage.getMessage(storeId, m.id))!.state;
      };
      const t0 = Date.now();
      assert.equal(await take(t0), 'completed');
      assert.equal(await take(t0 + 10), 'skipped');
      assert.equal(await take(t0 + 5000), 'completed');
    });

    test('listing filters and paging', async () => {
      const all = await storage.listQueue(storeId, 'accepted', {}, { page: 1, per_page: 2 });
      assert.equal(all.items.length, 2);
      assert.ok(all.total >= 3);
      assert.ok(all.items[0]!.id > all.items[1]!.id, 'newest first');
      const none = await storage.listQueue(
        storeId,
        'accepted',
        { start_date: Date.now() + 60_000 },
        { page: 1, per_page: 25 },
      );
      assert.equal(none.total, 0);
      const other = await storage.listQueue(newId(), 'accepted', {}, { page: 1, per_page: 25 });
      assert.equal(other.total, 0);
    });

    test('a listing counts exactly up to 10,000 matches and says when it stopped counting', async () => {
      const many = Array.from({ length: 10_050 }, () => incoming('acme:many:x'));
      await Promise.all(many.map((message) => storage.push({ message })));
      const res = await storage.listQueue(
        storeId,
        'incoming',
        { message: 'acme:many:x' },
        { page: 1, per_page: 25 },
      );
      assert.equal(res.total, 10_000);
      assert.equal(res.capped, true);
      assert.equal(res.items.length, 25);
      const few = await storage.listQueue(
        storeId,
        'incoming',
        { message: 'acme:bulk:new' },
        { page: 1, per_page: 25 },
      );
      assert.equal(few.capped, false);
    });

    test('store schemas: versioned put, get, list, delete', async () => {
      const s1 = await storage.putStoreSchema({
        store_id: storeId,
        message: 'acme:x:y',
        schema: '{}',
        version: 0,
        updated_at: 1,
      });
      const s2 = await storage.putStoreSchema({
        store_id: storeId,
        message: 'acme:x:y',
        schema: '{"type":"object"}',
        version: 0,
        updated_at: 2,
      });
      assert.equal(s1.version, 1);
      assert.equal(s2.version, 2);
      assert.equal((await storage.getStoreSchema(storeId, 'acme:x:y'))?.schema, '{"type":"object"}');
      assert.equal((await storage.listStoreSchemas(storeId)).length, 1);
      assert.equal(await storage.deleteStoreSchema(storeId, 'acme:x:y'), true);
      assert.equal(await storage.deleteStoreSchema(storeId, 'acme:x:y'), false);
    });
  });
}
