import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newStore } from '../../src/http/routes/stores.js';
import { newId } from '../../src/ids.js';
import { Intake, type Router } from '../../src/pipeline/intake.js';
import { MessageValidator } from '../../src/pipeline/message-validation.js';
import type { NewIncoming, Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { testHub } from '../helpers/hub.js';
import { call, createMapping } from '../helpers/mappings.js';
import { newIncoming } from '../helpers/messages.js';

/**
 * Push-time routing (a one-process hub routes a push in its own commit) must never let a push
 * overtake an older one still waiting in the incoming queue. Intake offers it only when it knows
 * the queue holds nothing older.
 */

/** A router that gives every message one copy and records the order it routes them in. */
function recordingRouter() {
  const order: string[] = [];
  let gate: Promise<void> | undefined;
  const router: Router = {
    route: async (batch) => {
      if (gate) await gate;
      return batch.map((m) => {
        order.push(m.id);
        return {
          id: m.id,
          copies: [{ id: newId(), mapping_id: newId(), consumer: 'x', ordering_key: null }],
        };
      });
    },
  };
  /** Holds routing until the returned function is called. */
  const hold = () => {
    let open = () => {};
    gate = new Promise((r) => {
      open = r;
    });
    return () => {
      gate = undefined;
      open();
    };
  };
  return { order, router, hold };
}

describe('push-time routing and the incoming backlog', () => {
  let db: TestDatabase;
  let storage: Storage;
  let storeId: string;
  const { order: routedOrder, router, hold } = recordingRouter();
  const message = () => newIncoming(storeId);
  const push = async (m: NewIncoming) => {
    const outcome = await storage.push({ message: m });
    assert.equal(outcome.kind, 'created');
    return outcome.kind === 'created' && outcome.routed;
  };

  before(async () => {
    db = await freshDatabase('sqlite');
    storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
    const { store, token } = newStore('Backlog');
    storeId = store.id;
    await storage.createStore(store, token);
  });
  after(async () => {
    await storage.close();
    await db.drop();
  });

  test('routes at push time only while nothing older waits for intake', async () => {
    let accepted = 0;
    const intake = new Intake(storage, router, new MessageValidator(storage), () => accepted++);
    storage.routePushes(intake.pushRouting());
    assert.equal(intake.pushRouting().ready(), false);

    // a fresh intake assumes a backlog (a restart may leave one) until a step finds the queue short
    const a = message();
    assert.equal(await push(a), false);
    assert.equal(await intake.step(), 1);

    const b = message();
    assert.equal(await push(b), true, 'intake is idle: routed at push time');
    assert.equal((await storage.getMessage(storeId, b.id))?.queue_name, 'archived');
    assert.ok(accepted >= 2, 'delivery was told about the copies');

    // a push arriving while a step runs is queued, and the step that missed it leaves the backlog set
    const x = message();
    const routing = intake.pushRouting();
    storage.routePushes(undefined); // x reaches the incoming queue without intake knowing
    await push(x);
    storage.routePushes(routing);
    const release = hold();
    const stepping = intake.step(); // takes x, then waits in the router
    const c = message();
    assert.equal(await push(c), false);
    release();
    assert.equal(await stepping, 1);
    const d = message();
    assert.equal(await push(d), false, 'c still waits: d must not overtake it');
    assert.equal(await intake.step(), 2);
    const e = message();
    assert.equal(await push(e), true);

    assert.deepEqual(
      routedOrder,
      [a, b, x, c, d, e].map((m) => m.id),
    );
    const counts = await storage.queueCounts(storeId);
    assert.equal(counts.incoming, 0);
    assert.equal(counts.pending, 6);
    storage.routePushes(undefined);
  });
});

describe('push-time routing and messages from other sources', () => {
  test('a reply message queued for intake stops push-time routing until intake has taken it', async () => {
    const db = await freshDatabase('sqlite');
    const storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
    try {
      const { store, token } = newStore('Replies');
      await storage.createStore(store, token);
      const { order, router } = recordingRouter();
      const message = () => newIncoming(store.id);
      // a copy delivered and about to be settled with a reply message
      const first = message();
      await storage.push({ message: first });
      const intake = new Intake(storage, router, new MessageValidator(storage), () => {});
      assert.equal(await intake.step(), 1);
      const [copy] = await storage.leaseDeliveries('lease-r', 10, Date.now() + 1, 30_000, []);
      assert.ok(copy);
      storage.routePushes(intake.pushRouting());
      assert.equal(await intake.step(), 0);
      assert.equal(intake.pushRouting().ready(), true);

      const reply = { ...message(), origin: 'reply' as const, parent_id: copy.id, depth: 1 };
      const settled = await storage.settle({
        id: copy.id,
        store_id: store.id,
        lease: 'lease-r',
        now: Date.now(),
        outcome: { kind: 'completed' },
        children: [reply],
        notifications: [],
        parameters: [],
      });
      assert.equal(settled, true);
      assert.equal(intake.pushRouting().ready(), false, 'the reply waits in the incoming queue');
      const later = message();
      const outcome = await storage.push({ message: later });
      assert.deepEqual(outcome, { kind: 'created', routed: false });
      assert.equal(await intake.step(), 2);
      assert.deepEqual(order.slice(-2), [reply.id, later.id], 'routed in the order they arrived');
      storage.routePushes(undefined);
    } finally {
      await storage.close();
      await db.drop();
    }
  });
});

describe('push-time routing in a running hub (SQLite)', () => {
  test('once intake is idle, a push is archived with its copy by the time it is answered', async () => {
    const t = await testHub('sqlite', { listen: false });
    try {
      await createMapping(t, { url: 'http://127.0.0.1:9/x', messages: ['order:new'] });
      const pushOne = async () => {
        const res = await t.push({ message: 'order:new', payload: { order: { number: 'R1' } } });
        assert.equal(res.status, 201);
        return res.body.message_id as string;
      };
      // the first push after start may meet intake's start-up step: let intake catch up
      await pushOne();
      await t.drained();
      const second = await pushOne();
      const detail = (await call(t, 'GET', `messages/${second}`)).body;
      assert.equal(detail.queue_name, 'archived');
      assert.equal(detail.state, 'completed');
      assert.equal(detail.children.length, 1);
      assert.equal(detail.children[0].queue_name, 'accepted');
    } finally {
      await t.close();
    }
  });
});
