import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SchedulerRunner } from '../../src/pipeline/scheduler.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call } from '../helpers/mappings.js';

const MINUTE = 60_000;

for (const backend of backends()) {
  describe(`schedulers (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());

    const archivedOf = async (type: string) =>
      (await call(t, 'GET', `queues/archived?message=${type}&source=incoming&state=skipped&per_page=100`))
        .body;

    test('CRUD, with validation naming the field', async () => {
      const before = Date.now();
      const created = await call(t, 'POST', 'schedulers', {
        key: 'acme:orders:poll',
        interval: 60,
        count: 1,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const s = created.body;
      assert.equal(s.name, 'acme:orders:poll');
      assert.equal(s.cron, null);
      assert.deepEqual(s.payload, {});
      assert.equal(s.enabled, true);
      const due = Date.parse(s.next_run_at);
      assert.ok(due >= before + 60_000 && due <= Date.now() + 60_000, s.next_run_at);

      const cases: [unknown, string][] = [
        [{ key: 'acme:x', interval: 5, cron: '* * * * *' }, '/cron'],
        [{ key: 'acme:x' }, '/interval'],
        [{ key: 'acme:x', interval: 0 }, '/interval'],
        [{ key: 'acme:x', interval: 1.5 }, '/interval'],
        [{ key: 'acme:x', cron: 'every day' }, '/cron'],
        [{ key: 'acme:x', cron: '61 * * * *' }, '/cron'],
        [{ key: 'Not A Type', interval: 5 }, '/key'],
        [{ key: 'order:new', interval: 5, payload: { order: {} } }, '/payload/order/number'],
        [{ key: 'acme:x', interval: 5, payload: [] }, '/payload'],
        [{ key: 'acme:x', interval: 5, every: 5 }, '/every'],
        [{ key: 'acme:orders:poll', interval: 5 }, '/name'],
      ];
      for (const [body, pointer] of cases) {
        const res = await call(t, 'POST', 'schedulers', body);
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.ok(res.body.errors[pointer], `${pointer} in ${JSON.stringify(res.body)}`);
      }
      // a date that never comes: croner ran out of stack looking for it
      const never = await call(t, 'POST', 'schedulers', { key: 'acme:x', cron: '0 0 31 2,4,6,9,11 *' });
      assert.equal(never.status, 422);
      assert.deepEqual(never.body.errors['/cron'], ['never fires (no date matches it)']);

      const wrapped = await call(t, 'POST', 'schedulers', {
        scheduler: { name: 'nightly', key: 'acme:report', cron: '0 3 * * *', payload: { kind: 'daily' } },
      });
      assert.equal(wrapped.status, 201, JSON.stringify(wrapped.body));
      assert.equal(new Date(wrapped.body.next_run_at).getUTCHours(), 3);
      // sending interval clears cron; disabling clears the due time
      const switched = await call(t, 'PUT', 'schedulers/nightly', { interval: 30 });
      assert.equal(switched.status, 200, JSON.stringify(switched.body));
      assert.equal(switched.body.cron, null);
      assert.equal(switched.body.interval, 30);
      const off = await call(t, 'PUT', `schedulers/${wrapped.body.id}`, { enabled: false });
      assert.equal(off.body.next_run_at, null);
      assert.deepEqual(
        (await call(t, 'GET', 'schedulers')).body.map((x: any) => x.name),
        ['acme:orders:poll', 'nightly'],
      );
      for (const name of ['nightly', 'acme:orders:poll']) {
        assert.equal((await call(t, 'DELETE', `schedulers/${name}`)).status, 204);
      }
      assert.equal((await call(t, 'GET', 'schedulers/nightly')).status, 404);
    });

    test('a 1-second scheduler drives a poller whose reply messages are routed on', async () => {
      let cursor = 0;
      const endpoint = await TestEndpoint.start((r) => {
        if (r.path === '/endpoint.json') {
          return {
            body: {
              name: 'acme',
              services: [
                {
                  name: 'poll',
                  path: '/poll',
                  requires: { parameters: [{ name: 'cursor', data_type: 'integer', default: 0 }] },
                  recommends: { messages: ['acme:orders:poll'] },
                },
                { name: 'orders', path: '/orders', recommends: { messages: ['order:new'] } },
              ],
            },
          };
        }
        if (r.path === '/poll') {
          cursor++;
          return {
            body: {
              messages: [{ message: 'order:new', payload: { order: { number: `P${cursor}` } } }],
              parameters: [{ name: 'acme.cursor', value: cursor }],
            },
          };
        }
        return { body: {} };
      });
      try {
        const created = await call(t, 'POST', 'integrations', {
          name: 'acme',
          url: endpoint.url,
          token: 'k',
        });
        assert.equal(created.body.status, 'ready', JSON.stringify(created.body));
        const signup = await call(t, 'POST', 'integrations/acme/signup', { enabled: ['poll', 'orders'] });
        assert.equal(signup.status, 200, JSON.stringify(signup.body));
        const s = await call(t, 'POST', 'schedulers', { name: 'poll', key: 'acme:orders:poll', interval: 1 });
        assert.equal(s.status, 201);

        const orders = await eventually(
          async () => {
            const got = endpoint.received.filter((r) => r.path === '/orders');
            return got.length >= 2 ? got : undefined;
          },
          10_000,
          'two routed orders',
        );
        await call(t, 'PUT', 'schedulers/poll', { enabled: false });
        assert.deepEqual(
          orders.slice(0, 2).map((r) => r.body.payload.order.number),
          ['P1', 'P2'],
        );
        const polls = endpoint.received.filter((r) => r.path === '/poll');
        // each poll sees the cursor the previous reply stored
        assert.deepEqual(polls[0]!.body.payload.parameters, [{ name: 'acme.cursor', value: 0 }]);
        assert.deepEqual(polls[1]!.body.payload.parameters, [{ name: 'acme.cursor', value: 1 }]);
        assert.ok(polls[1]!.at - polls[0]!.at >= 500, 'ticks are about a second apart');
        const ticks = (await call(t, 'GET', 'queues/archived?message=acme:orders:poll&source=incoming')).body;
        assert.ok(ticks.length >= 2);
        assert.ok(ticks.every((m: any) => m.origin === 'scheduler' && m.parent_id === null));
        await call(t, 'DELETE', 'integrations/acme');
        await call(t, 'DELETE', 'schedulers/poll');
      } finally {
        await endpoint.close();
      }
    });

    test('after downtime a scheduler fires one catch-up tick, then keeps its grid', async () => {
      const runner = new SchedulerRunner(t.hub.storage, () => {});
      const s = (await call(t, 'POST', 'schedulers', { key: 'acme:catchup', interval: 60 })).body;
      const due = Date.parse(s.next_run_at);
      const now = due + 10 * MINUTE + 500; // ten missed ticks
      assert.equal(await runner.step(now), 1);
      assert.equal(await runner.step(now), 0);
      assert.equal(await runner.step(now + 1000), 0);
      const after = (await call(t, 'GET', 'schedulers/acme:catchup')).body;
      assert.equal(Date.parse(after.next_run_at), due + 11 * MINUTE);
      assert.equal(Date.parse(after.last_run_at), now);

      await call(t, 'PUT', 'schedulers/acme:catchup', { enabled: false }); // out of the way of the next step
      const c = (await call(t, 'POST', 'schedulers', { key: 'acme:cron_catchup', cron: '*/5 * * * *' })).body;
      const cronNow = Date.parse(c.next_run_at) + 60 * MINUTE + 1000;
      assert.equal(await runner.step(cronNow), 1);
      const next = Date.parse((await call(t, 'GET', 'schedulers/acme:cron_catchup')).body.next_run_at);
      assert.ok(next > cronNow && next <= cronNow + 5 * MINUTE);
      assert.equal(new Date(next).getUTCMinutes() % 5, 0);

      await t.drained();
      assert.equal((await archivedOf('acme:catchup')).length, 1);
      assert.equal((await archivedOf('acme:cron_catchup')).length, 1);
      for (const name of ['acme:catchup', 'acme:cron_catchup']) await call(t, 'DELETE', `schedulers/${name}`);
    });

    test('each tick fires exactly once however many processes share the database', async () => {
      // SQLite mode is one hub process: its runners share one connection. PostgreSQL: two pools,
      // as two processes would have.
      let other: Storage | undefined;
      if (backend === 'postgres') other = await openStorage({ ...t.config, poolSize: 4 });
      try {
        const keys = Array.from({ length: 12 }, (_, i) => `acme:race_${i}`);
        for (const key of keys) await call(t, 'POST', 'schedulers', { key, interval: 3600 });
        const a = new SchedulerRunner(t.hub.storage, () => {});
        const b = new SchedulerRunner(other ?? t.hub.storage, () => {});
        const now = Date.now() + 2 * 3600 * 1000;
        const fired = await Promise.all([a.step(now), b.step(now), a.step(now), b.step(now)]);
        assert.equal(
          fired.reduce((x, y) => x + y, 0),
          keys.length,
        );
        await t.drained();
        for (const key of keys) assert.equal((await archivedOf(key)).length, 1, key);
        for (const key of keys) await call(t, 'DELETE', `schedulers/${key}`);
      } finally {
        await other?.close();
      }
    });
  });
}
