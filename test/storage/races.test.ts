import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newStore } from '../../src/http/routes/stores.js';
import { newId } from '../../src/ids.js';
import { parseMapping } from '../../src/pipeline/mapping-validation.js';
import { SchedulerRunner } from '../../src/pipeline/scheduler.js';
import type { IntakeDecision, MessageRecord, Storage } from '../../src/storage/contract.js';
import { MappingChanged, newMapping } from '../../src/storage/mapping-contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { newIncoming } from '../helpers/messages.js';

/**
 * Writes that race another process (PostgreSQL: any number of hubs share the database; SQLite:
 * one hub, but two storages on one file behave alike). Each case is an interleaving a review
 * found and reproduced; the assertions fail on the code before its fix.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of backends()) {
  describe(`races between processes (${backend})`, () => {
    let db: TestDatabase;
    let a: Storage;
    let b: Storage;
    let storeId: string;

    before(async () => {
      db = await freshDatabase(backend);
      a = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
      b = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
      const { store, token } = newStore('Races');
      storeId = store.id;
      await a.createStore(store, token);
    });
    after(async () => {
      await a.close();
      await b.close();
      await db.drop();
    });

    test('two processes registering a store schema at once each get a version of their own', async () => {
      const put = (s: Storage, i: number) =>
        s.putStoreSchema({
          store_id: storeId,
          message: 'acme:race:new',
          schema: JSON.stringify({ title: `v${i}` }),
          version: 0,
          updated_at: Date.now(),
        });
      const versions: number[] = [];
      for (let i = 0; i < 10; i++) {
        const [x, y] = await Promise.all([put(a, 2 * i), put(b, 2 * i + 1)]);
        versions.push(x.version, y.version);
      }
      assert.deepEqual(
        [...versions].sort((p, q) => p - q),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.equal((await a.getStoreSchema(storeId, 'acme:race:new'))?.version, 20);
    });

    test("an edit that keeps a scheduler's timing does not bring back a due time a tick moved on", async () => {
      const t0 = Date.now();
      await a.createScheduler({
        id: newId(),
        store_id: storeId,
        name: 'poll',
        key: 'acme:poll',
        interval: 60,
        cron: null,
        payload: {},
        enabled: true,
        next_run_at: t0 - 1,
        last_run_at: null,
        created_at: t0,
        updated_at: t0,
      });
      // PUT …/schedulers/poll with a new payload reads the scheduler …
      const read = await a.getScheduler(storeId, 'poll');
      assert.ok(read);
      // … another process fires the due tick meanwhile …
      const runner = new SchedulerRunner(b, () => {});
      assert.equal(await runner.step(Date.now()), 1);
      const moved = (await a.getScheduler(storeId, 'poll'))?.next_run_at;
      assert.ok(moved && moved > Date.now());
      // … and the route writes its edit, timing unchanged
      const updated = await a.updateScheduler({ ...read, payload: { v: 2 }, updated_at: Date.now() }, true);
      assert.deepEqual(updated?.payload, { v: 2 });
      assert.equal(updated?.next_run_at, moved, 'the due time the tick set stays');
      assert.equal(await runner.step(Date.now()), 0, 'no second tick');
    });

    test('push batches holding the same idempotency keys and new types in opposite orders all commit', async () => {
      const failures = new Set<string>();
      let ok = 0;
      for (let round = 0; round < 10; round++) {
        // a client retries pushes through a load balancer: two processes get them in opposite
        // orders, each batch with a push of a new type and one without a key sharing it
        const push = (s: Storage, i: number | null) =>
          s.push({
            message: newIncoming(storeId, i === null ? 'acme:plain:new' : `acme:r${round}:t${i}`),
            ...(i === null
              ? {}
              : {
                  idempotency: {
                    key: `r${round}-k${i}`,
                    response: '{}',
                    expires_before: Date.now() - 86_400_000,
                  },
                }),
          });
        const all = [
          push(a, 1),
          push(a, 2),
          push(a, 3),
          push(a, null),
          push(b, 3),
          push(b, 2),
          push(b, 1),
          push(b, null),
        ];
        for (const r of await Promise.allSettled(all)) {
          if (r.status === 'fulfilled') ok++;
          else failures.add(String((r.reason as Error).message));
        }
      }
      assert.deepEqual([...failures], [], 'no batch failed (PostgreSQL reported deadlocks before)');
      assert.equal(ok, 80);
    });

    test('a sign-up is written whole or not at all, and its defaults do not overwrite a stored value', async () => {
      const parsed = parseMapping({
        name: 'shop.orders',
        url: 'http://127.0.0.1:9/orders',
        token: 'k',
        messages: ['order:new'],
      });
      assert.ok(parsed.ok);
      const now = Date.now();
      const mapping = await a.createMapping(newMapping(parsed.fields, storeId, now));
      const parameter = (name: string, value: unknown) => ({
        id: newId(),
        store_id: storeId,
        name,
        value: JSON.stringify(value),
        data_type: 'string' as const,
        created_at: now,
        updated_at: now,
      });
      // an endpoint stored a cursor after the sign-up was planned
      await a.putParameter(parameter('shop.cursor', 'c-42'));
      const writes = (expectedVersion: number) => ({
        parameters: [
          { parameter: parameter('shop.api_key', 'secret'), onlyIfAbsent: false },
          { parameter: parameter('shop.cursor', 'c-0'), onlyIfAbsent: true },
        ],
        mappings: [
          { id: mapping.id, fields: { ...parsed.fields, enabled: false }, adopt: true, expectedVersion },
        ],
      });
      // the mapping was edited since the plan: nothing is written
      await assert.rejects(a.applySignup(storeId, newId(), writes(0), now), MappingChanged);
      assert.equal(await a.getParameter(storeId, 'shop.api_key'), undefined);
      await a.applySignup(storeId, newId(), writes(1), now);
      assert.equal((await a.getParameter(storeId, 'shop.api_key'))?.value, '"secret"');
      assert.equal(
        (await a.getParameter(storeId, 'shop.cursor'))?.value,
        '"c-42"',
        'the default did not overwrite it',
      );
      const after = await a.getMapping(storeId, mapping.id);
      assert.equal(after?.enabled, false);
      assert.equal(after?.version, 2);
    });

    if (backend === 'postgres') {
      test('copies with one ordering key are delivered in order when two processes route them', async () => {
        const { store, token } = newStore('Ordering race');
        await a.createStore(store, token);
        const mine = (m: MessageRecord) => m.store_id === store.id;
        const copyOf = (m: MessageRecord): IntakeDecision =>
          mine(m)
            ? {
                id: m.id,
                copies: [
                  { id: newId(), mapping_id: 'ordered-map', consumer: 'acme.stock', ordering_key: 'sku-1' },
                ],
              }
            : { id: m.id, copies: [], reason: 'no mapping' };
        // earlier tests' messages go first, so that m1 and m2 are the only ones left
        while ((await a.intake(1000, (batch) => batch.map(copyOf), Date.now())) > 0);
        const m1 = newIncoming(store.id, 'acme:stock:change', '{"sku":"sku-1","n":1}');
        const m2 = newIncoming(store.id, 'acme:stock:change', '{"sku":"sku-1","n":2}');
        await a.push({ message: m1 });
        await a.push({ message: m2 });
        let open = () => {};
        const gate = new Promise<void>((r) => {
          open = r;
        });
        // process A claims m1 and is slow to commit (a GC pause, a slow router read) …
        const stepA = a.intake(
          1,
          async (batch) => {
            await gate;
            return batch.map(copyOf);
          },
          Date.now(),
        );
        await sleep(200);
        // … while process B's intake step runs
        const stepB = b.intake(1, (batch) => batch.map(copyOf), Date.now());
        await sleep(200);
        const early = await b.leaseDeliveries('b:1', 10, Date.now(), 30_000, []);
        assert.deepEqual(early, [], "nothing of m2's is delivered while m1's copy is not yet written");
        open();
        assert.equal(await stepA, 1);
        assert.equal(await stepB, 1);
        const leased = await b.leaseDeliveries('b:2', 10, Date.now(), 30_000, []);
        assert.deepEqual(
          leased.map((c) => c.parent_id),
          [m1.id],
          "m1's copy goes first; m2's waits behind it",
        );
      });

      test('bulk archive keeps the identifier key of a copy another process leased meanwhile', async () => {
        const { store, token } = newStore('Archive race');
        await a.createStore(store, token);
        // a copy with an identifier key for this test's message; the other store's scheduler tick
        // (the test before) goes to the archive
        const decide = (batch: MessageRecord[]): IntakeDecision[] =>
          batch.map((m) =>
            m.store_id !== store.id
              ? { id: m.id, copies: [], reason: 'no mapping' }
              : {
                  id: m.id,
                  copies: [
                    {
                      id: newId(),
                      mapping_id: newId(),
                      consumer: 'acme.orders',
                      ordering_key: null,
                      dedup: { key: 'order#42', expires_at: Date.now() + 86_400_000 },
                    },
                  ],
                },
          );
        await a.push({ message: newIncoming(store.id, 'acme:order:new') });
        assert.ok((await a.intake(1000, decide, Date.now())) >= 1);
        const raw = new pg.Client({ connectionString: db.url });
        await raw.connect();
        try {
          const copy = (
            await raw.query<{ id: string }>(
              `SELECT id FROM messages WHERE store_id = $1 AND queue_name = 'accepted'`,
              [store.id],
            )
          ).rows[0]!.id;
          // another process's lease of the copy, its UPDATE done and not yet committed
          await raw.query('BEGIN');
          await raw.query(
            `UPDATE messages SET state = 'running', lease_owner = 'other:1', lease_expires_at = $2, locked_at = $3 WHERE id = $1`,
            [copy, Date.now() + 30_000, Date.now()],
          );
          // an operator archives every match: it lists the copy as pending, then waits on its row
          const archiving = a.archiveMatching(store.id, {}, Date.now());
          await sleep(300);
          await raw.query('COMMIT');
          assert.equal(await archiving, 0, 'the leased copy is not archived');
          const keys = await raw.query(`SELECT message_id FROM identifier_keys WHERE message_id = $1`, [
            copy,
          ]);
          assert.deepEqual(
            keys.rows.map((r) => r.message_id),
            [copy],
            'its key still stands for the delivery under way',
          );
        } finally {
          await raw.end();
        }
      });
    }
  });
}
