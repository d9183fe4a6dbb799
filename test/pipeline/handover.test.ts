import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { intakeTo, manualEngine } from '../helpers/engine.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

/**
 * Copy handover: the engine takes new copies in the transaction that creates them, written leased
 * to it, but only while no older due message waits in the database — never ahead of one.
 */
for (const backend of backends()) {
  describe(`copy handover (${backend})`, () => {
    test('new copies go to the engine at commit once it has no backlog; older ones first', async () => {
      // an api-only hub: no workers of its own; this test drives intake and one engine by hand
      const t = await testHub(backend, { config: { role: 'api' } });
      const endpoint = await TestEndpoint.start();
      const storage = t.hub.storage;
      const engine = manualEngine(storage);
      try {
        const mapping = await createMapping(t, { url: `${endpoint.url}/svc`, messages: ['order:new'] });
        const pushAndIntake = async (n: string) => {
          const res = await t.push({ message: 'order:new', payload: { order: { number: n } } });
          assert.equal(res.status, 201);
          await intakeTo(storage, [mapping]);
          const [copy] = await storage.children(t.storeId, res.body.message_id);
          return copy!.id;
        };
        const stateOf = async (id: string) => (await storage.getMessage(t.storeId, id))!.state;

        const a = await pushAndIntake('A');
        storage.handOverCopies(engine.handover());
        // a fresh engine assumes a backlog until a lease shows there is none: B stays pending
        const b = await pushAndIntake('B');
        assert.equal(await stateOf(a), 'pending');
        assert.equal(await stateOf(b), 'pending');

        assert.equal(await engine.step(), 2);
        await endpoint.waitFor(2);
        assert.deepEqual(
          endpoint.received.map((r) => r.body.payload.order.number),
          ['A', 'B'],
        );

        // now the engine is known to have nothing waiting: C is leased in its own intake commit
        // and delivered without a lease statement
        // a reservation that cannot take every copy leaves the rest pending: until a lease
        // statement has taken them, nothing more is handed over
        const probe = engine.handover();
        const partial = probe.reserve(Array(20).fill(mapping.id), Date.now(), false);
        assert.ok(
          partial && partial.taken.length > 0 && partial.taken.length <= 8,
          'a nearly idle engine takes up to 8 copies of a push',
        );
        assert.equal(probe.reserve([mapping.id], Date.now(), true), undefined);
        probe.cancel(partial!.lease, partial!.taken.length);
        assert.equal(await engine.step(), 0); // nothing pending: the backlog mark is cleared

        // a lease in flight has not seen the copies a reservation leaves pending meanwhile: it
        // must not clear the backlog mark that reservation set
        const leasing = engine.step();
        const partialBulk = probe.reserve(Array(300).fill(mapping.id), Date.now(), true);
        // …and it takes none of the room the lease in flight may fill (lease-room.ts: with no
        // lanes, NEW_LANE_ROOM copies, all of them the lease's), so all 300 are left pending
        assert.equal(partialBulk, undefined);
        assert.equal(await leasing, 0);
        assert.equal(probe.reserve([mapping.id], Date.now(), false), undefined, 'still marked');
        assert.equal(await engine.step(), 0); // a lease that saw nothing pending clears it

        const c = await pushAndIntake('C');
        assert.notEqual(await stateOf(c), 'pending');
        await endpoint.waitFor(3);
        assert.equal(endpoint.received[2]!.body.payload.order.number, 'C');
        for (let i = 0; i < 100 && (await stateOf(c)) !== 'completed'; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(await stateOf(c), 'completed');
        const detail = await storage.getMessage(t.storeId, c);
        assert.equal(detail!.attempts, 1);
      } finally {
        storage.handOverCopies(undefined);
        await engine.stop(1000);
        await t.close();
        await endpoint.close();
      }
    });

    test("an intake step's batch goes to an engine with room, but not to a lane with a queue", async () => {
      const t = await testHub(backend, { config: { role: 'api' } });
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      // the endpoint of mapping B holds every answer until the gate opens
      const endpoint = await TestEndpoint.start(async (r) => {
        if (r.path === '/b') await gate;
        return { body: {} };
      });
      const storage = t.hub.storage;
      const engine = manualEngine(storage);
      try {
        const a = await createMapping(t, {
          name: 'a.svc',
          url: `${endpoint.url}/a`,
          messages: ['order:new'],
        });
        const b = await createMapping(t, {
          name: 'b.svc',
          url: `${endpoint.url}/b`,
          messages: ['order:new'],
          options: { concurrency: 1 },
        });
        const pushAll = async (n: number) => {
          for (let i = 0; i < n; i++) {
            const res = await t.push({ message: 'order:new', payload: { order: { number: `N${i}` } } });
            assert.equal(res.status, 201);
          }
        };
        const intake = () => intakeTo(storage, [a, b]);
        const copies = async (mappingId: string) => {
          const res = await storage.listQueue(
            t.storeId,
            'accepted',
            { mapping_id: mappingId },
            { page: 1, per_page: 100 },
          );
          return res.items.map((m) => m.state).sort();
        };

        storage.handOverCopies(engine.handover());
        assert.equal(await engine.step(), 0); // nothing due: the engine knows it has no backlog

        // 8 pushes → 16 copies in one intake step, twice a pushed batch's 8 and as many as an
        // engine with no lanes takes at once (lease-room.ts): all taken
        await pushAll(8);
        await intake();
        assert.deepEqual(await copies(b.id), Array(8).fill('running'));
        await endpoint.waitFor(9); // A's eight, and B's first (held at the gate)
        assert.equal(endpoint.received.filter((r) => r.path === '/a').length, 8);

        // B's lane now has a queue: the next step's copies for B stay pending, for the lease
        // statement to take in order; A's may not be handed over past them either
        await pushAll(2);
        await intake();
        const stateOfB = await copies(b.id);
        assert.equal(stateOfB.filter((s) => s === 'pending').length, 2);
        assert.equal(stateOfB.filter((s) => s === 'running').length, 8);
        // A's copies are handed over all the same: its lane is free, as a lease would find it
        assert.ok(!(await copies(a.id)).includes('pending'));
        release();
        // the two left pending wait for a lease statement, as any backlog does
        for (let i = 0; i < 200 && endpoint.received.length < 20; i++) {
          await engine.step();
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(endpoint.received.length, 20);
      } finally {
        release();
        storage.handOverCopies(undefined);
        await engine.stop(1000);
        await t.close();
        await endpoint.close();
      }
    });
  });
}
