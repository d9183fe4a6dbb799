import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import { newId } from '../../src/ids.js';
import type { Storage } from '../../src/storage/contract.js';
import type { LeasedMessage, Settlement, SettleOutcome } from '../../src/storage/delivery-contract.js';
import { openStorage } from '../../src/storage/open.js';
import { type Backend, backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

/**
 * Settlements submitted together share a group commit; on PostgreSQL they are written a few
 * statements per group (one UPDATE per outcome shape, one INSERT of attempt rows). Every outcome,
 * a lost lease and a message settled twice in one group must come out as if settled one by one.
 */
/** A fresh database with `count` copies (one mapping) leased, as the engine holds them. */
async function leasedCopies(backend: Backend, count: number) {
  const db = await freshDatabase(backend);
  const storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
  const { store, token } = newStore('Settle');
  await storage.createStore(store, token);
  for (let i = 0; i < count; i++) await storage.push({ message: newIncoming(store.id) });
  const mapping = newId();
  await storage.intake(
    count,
    (batch) =>
      batch.map((m) => ({
        id: m.id,
        copies: [{ id: newId(), mapping_id: mapping, consumer: 'x', ordering_key: null }],
      })),
    Date.now() - 1000,
  );
  const leased = await storage.leaseDeliveries('lease-1', count, Date.now(), 30_000, []);
  assert.equal(leased.length, count);
  return { db, storage, storeId: store.id, leased };
}

for (const backend of backends()) {
  describe(`settlements sharing a commit (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    let storeId: string;
    let leased: LeasedMessage[];

    before(async () => {
      ({ db, storage, storeId, leased } = await leasedCopies(backend, 7));
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    test('each outcome lands as settled alone; a lost lease and a second settlement change nothing', async () => {
      const now = Date.now();
      const later = now + 60_000;
      const settlement = (
        m: LeasedMessage,
        outcome: SettleOutcome,
        extra: Partial<Settlement> = {},
      ): Settlement => ({
        id: m.id,
        store_id: storeId,
        lease: m.lease_owner,
        now,
        outcome,
        children: [],
        notifications: [],
        parameters: [],
        ...(outcome.kind === 'released'
          ? {}
          : {
              attempt: {
                id: newId(),
                message_id: m.id,
                store_id: storeId,
                attempted_at: now,
                duration_ms: 12,
                url: 'http://127.0.0.1:9/x',
                status_code: outcome.kind === 'completed' ? 200 : 500,
                error: null,
                response_excerpt: '{}',
              },
            }),
        ...extra,
      });
      const [c0, c1, c2, c3, c4, c5, c6] = leased as [
        LeasedMessage,
        LeasedMessage,
        LeasedMessage,
        LeasedMessage,
        LeasedMessage,
        LeasedMessage,
        LeasedMessage,
      ];
      const group = [
        settlement(c0, { kind: 'completed' }, { result: '{"ok":true}' }),
        settlement(c1, { kind: 'completed' }),
        settlement(c2, { kind: 'failing', attempt_at: later, last_error: 'HTTP 500' }),
        settlement(c3, { kind: 'parked', last_error: 'HTTP 410', reason: 'gone' }),
        settlement(c4, { kind: 'scheduled', attempt_at: later, update_url: 'http://127.0.0.1:9/poll' }),
        settlement(c5, { kind: 'released' }),
        settlement(c6, { kind: 'completed' }, { lease: 'someone-else' }),
        // the same message again in the same group: its lease is gone by then
        settlement(c0, { kind: 'failing', attempt_at: later, last_error: 'late' }),
      ];
      const held = await Promise.all(group.map((s) => storage.settle(s)));
      assert.deepEqual(held, [true, true, true, true, true, true, false, false]);

      const row = async (m: LeasedMessage) => (await storage.getMessage(storeId, m.id))!;
      const r0 = await row(c0);
      assert.deepEqual(
        [r0.queue_name, r0.state, r0.result, r0.attempts, r0.completed_at, r0.last_error],
        ['archived', 'completed', '{"ok":true}', 1, now, null],
      );
      const r1 = await row(c1);
      assert.deepEqual([r1.queue_name, r1.state, r1.result, r1.attempts], ['archived', 'completed', null, 1]);
      const r2 = await row(c2);
      assert.deepEqual(
        [r2.queue_name, r2.state, r2.attempt_at, r2.last_error, r2.attempts],
        ['accepted', 'failing', later, 'HTTP 500', 1],
      );
      const r3 = await row(c3);
      assert.deepEqual(
        [r3.state, r3.attempt_at, r3.last_error, r3.reason, r3.attempts],
        ['parked', null, 'HTTP 410', 'gone', 1],
      );
      const r4 = await row(c4);
      assert.deepEqual([r4.state, r4.attempt_at, r4.attempts], ['scheduled', later, 1]);
      const r5 = await row(c5);
      assert.deepEqual([r5.state, r5.attempt_at, r5.attempts], ['pending', now, 0]);
      const r6 = await row(c6);
      assert.deepEqual([r6.state, r6.attempts], ['running', 0]);
      for (const r of [r0, r1, r2, r3, r4, r5]) assert.equal(r.locked_at, null);

      // one attempt row per counted settlement that held its lease, none for the rest
      const attempts = await Promise.all(leased.map((m) => storage.attemptsFor(m.id)));
      assert.deepEqual(
        attempts.map((a) => a.length),
        [1, 1, 1, 1, 1, 0, 0],
      );
      assert.deepEqual(
        [attempts[0]![0]!.status_code, attempts[0]![0]!.duration_ms, attempts[2]![0]!.status_code],
        [200, 12, 500],
      );
    });
  });
}

for (const backend of backends()) {
  describe(`settlements the database refuses (${backend})`, () => {
    let db: TestDatabase;
    let storage: Storage;
    let storeId: string;
    let leased: LeasedMessage[];

    before(async () => {
      ({ db, storage, storeId, leased } = await leasedCopies(backend, 3));
    });
    after(async () => {
      await storage.close();
      await db.drop();
    });

    test('a reply of thousands of messages is stored; one the database refuses is parked alone', async () => {
      const now = Date.now();
      const [plain, many, refused] = leased as [LeasedMessage, LeasedMessage, LeasedMessage];
      const completed = (m: LeasedMessage, children: Settlement['children'] = []): Settlement => ({
        id: m.id,
        store_id: storeId,
        lease: m.lease_owner,
        now,
        outcome: { kind: 'completed' },
        children,
        notifications: [],
        parameters: [],
      });
      const child = (parent: LeasedMessage, id = newId()) => ({
        ...newIncoming(storeId, 'acme:polled:order'),
        id,
        parent_id: parent.id,
        depth: 1,
      });
      // more rows than one statement may bind on SQLite (~1,310 at 25 parameters each)
      const thousands = Array.from({ length: 1500 }, () => child(many));
      // a child whose id is taken already: the database refuses the whole settlement
      const clash = [child(refused, plain.id)];
      const held = await Promise.all([
        storage.settle(completed(plain)),
        storage.settle(completed(many, thousands)),
        storage.settle(completed(refused, clash)),
      ]);
      assert.deepEqual(held, [true, true, true]);
      const row = async (m: LeasedMessage) => (await storage.getMessage(storeId, m.id))!;
      assert.deepEqual([(await row(plain)).state, (await row(many)).state], ['completed', 'completed']);
      assert.equal((await storage.children(storeId, many.id)).length, 1500);
      const parked = await row(refused);
      assert.equal(parked.state, 'parked');
      assert.match(parked.reason ?? '', /^the endpoint's reply could not be stored: /);
      assert.deepEqual(await storage.children(storeId, refused.id), []);
    });
  });
}
