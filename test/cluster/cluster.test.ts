import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { freshDatabase, postgresUrl, type TestDatabase } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { cli, type ServerProcess, serve } from '../helpers/process.js';

/**
 * Scale-out on PostgreSQL: several hub processes share one database. Needs a PostgreSQL server
 * (skipped with a printed reason without one, a failure under CI).
 */
const url = postgresUrl();
if (!url && process.env.CI) throw new Error('CI is set but DATABASE_URL does not point at PostgreSQL');
if (!url)
  process.stdout.write('# cluster tests skipped: set DATABASE_URL to a PostgreSQL server to run them\n');

async function api(base: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await request(`${base}${path}`, {
    method,
    headers: { 'x-augury-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

describe('cluster: processes sharing one PostgreSQL database', { skip: !url }, () => {
  let db: TestDatabase;
  let storeId: string;
  let token: string;
  const procs: ServerProcess[] = [];
  const start = async (extra: string[] = []) => {
    const p = await serve(['--database', db.url, '--lease-seconds', '3', ...extra]);
    procs.push(p);
    return p;
  };

  before(async () => {
    db = await freshDatabase('postgres');
    const created = cli(['store', 'create', '--name', 'Cluster', '--json', '--database', db.url]);
    assert.equal(created.status, 0, created.stderr);
    ({ id: storeId, token } = JSON.parse(created.stdout));
  });
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await db.drop();
  });

  test('three processes starting at once migrate once and all serve', async () => {
    const fresh = await freshDatabase('postgres');
    try {
      const started = await Promise.all([0, 1, 2].map(() => serve(['--database', fresh.url])));
      const stores = new Set<string>();
      for (const p of started) {
        const health = await request(`${p.url}/readyz`);
        assert.equal(health.statusCode, 200);
        await health.body.dump();
        const m = /store id: (\S+)/.exec(p.output());
        if (m) stores.add(m[1]!);
      }
      for (const p of started) p.child.kill('SIGTERM');
      await Promise.all(started.map((p) => p.exited));
      assert.ok(stores.size <= 1, 'at most one default store');
    } finally {
      await fresh.drop();
    }
  });

  test('pushes to two processes, one killed mid-load and restarted: every acknowledged message delivered, never concurrently twice', async (t) => {
    // the endpoint fails the test if one copy is ever in flight twice at the same moment
    const inFlight = new Set<string>();
    let overlaps = 0;
    const endpoint = await TestEndpoint.start(async (r) => {
      const id = r.body.message_id as string;
      if (inFlight.has(id)) overlaps++;
      inFlight.add(id);
      await new Promise((res) => setTimeout(res, 10));
      inFlight.delete(id);
      return { body: {} };
    });
    try {
      const a = await start();
      let b = await start();
      const mapping = await api(a.url, token, 'POST', `/api/stores/${storeId}/mappings`, {
        name: 'cluster.sink',
        url: `${endpoint.url}/sink`,
        token: 'sink',
        messages: ['stock:change'],
        options: { concurrency: 8 },
      });
      assert.equal(mapping.status, 201, JSON.stringify(mapping.body));

      const acknowledged = new Set<string>();
      const pushTo = async (p: ServerProcess, i: number) => {
        try {
          const res = await api(p.url, token, 'POST', `/api/stores/${storeId}/messages`, {
            message: 'stock:change',
            payload: { sku: `C${i}`, quantity: i },
          });
          if (res.status === 201) acknowledged.add(res.body.message_id);
        } catch {
          // the process was killed: not acknowledged, so not owed
        }
      };
      const total = 400;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        pending.push(pushTo(i % 2 === 0 ? a : b, i));
        if (i === 200) {
          b.child.kill('SIGKILL');
          await b.exited;
          b = await start();
        }
        if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(pending);
      // pushes in flight to the killed process are not acknowledged, so they are not owed
      assert.ok(acknowledged.size >= total / 2, `${acknowledged.size} acknowledged`);

      const delivered = () => new Set(endpoint.received.map((r) => r.body.parent_id as string));
      await eventually(
        async () => [...acknowledged].every((id) => delivered().has(id)),
        60_000,
        'every acknowledged message delivered',
      );
      assert.equal(overlaps, 0, 'a copy was in flight twice at the same time');
      const copies = new Map<string, number>();
      for (const r of endpoint.received)
        copies.set(r.body.message_id, (copies.get(r.body.message_id) ?? 0) + 1);
      t.diagnostic(
        `${acknowledged.size} acknowledged, ${endpoint.received.length} requests, ${[...copies.values()].filter((n) => n > 1).length} copies delivered twice`,
      );

      const counts = await eventually(
        async () => {
          const [ca, cb] = await Promise.all(
            [a, b].map((p) => api(p.url, token, 'GET', `/api/stores/${storeId}/queues`)),
          );
          const idle = ca!.body.incoming + ca!.body.pending + ca!.body.running === 0;
          return idle && JSON.stringify(ca!.body) === JSON.stringify(cb!.body)
            ? [ca!.body, cb!.body]
            : undefined;
        },
        30_000,
        'queue counts to agree',
      );
      assert.deepEqual(counts[0], counts[1]);
    } finally {
      await endpoint.close();
    }
  });

  test('a 1-second scheduler fires about once a second in total across two processes', async () => {
    const a = await start();
    await start();
    const created = await api(a.url, token, 'POST', `/api/stores/${storeId}/schedulers`, {
      name: 'cluster.tick',
      key: 'acme:cluster:tick',
      interval: 1,
      payload: {},
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const since = Date.now();
    await new Promise((r) => setTimeout(r, 6_200));
    const ticks = await api(
      a.url,
      token,
      'GET',
      `/api/stores/${storeId}/queues/archived?state=skipped&message=acme:cluster:tick&per_page=100`,
    );
    const seconds = (Date.now() - since) / 1000;
    // two processes polling the same scheduler: one tick per second in total, not one each
    assert.ok(
      ticks.body.length >= seconds - 2 && ticks.body.length <= seconds + 1,
      `${ticks.body.length} ticks in ${seconds} s`,
    );
    const ids = new Set(ticks.body.map((m: { id: string }) => m.id));
    assert.equal(ids.size, ticks.body.length);
  });

  test('an api-role and a worker-role process split the work', async () => {
    const endpoint = await TestEndpoint.start();
    try {
      const api1 = await start(['--role', 'api']);
      const worker = await start(['--role', 'worker']);
      const onWorker = await request(`${worker.url}/api/stores/${storeId}/queues`, {
        headers: { 'x-augury-token': token },
      });
      assert.equal(onWorker.statusCode, 404, 'a worker serves health checks only');
      await onWorker.body.dump();
      const mapping = await api(api1.url, token, 'POST', `/api/stores/${storeId}/mappings`, {
        name: 'roles.sink',
        url: `${endpoint.url}/roles`,
        token: 'x',
        messages: ['acme:roles:x'],
      });
      assert.equal(mapping.status, 201, JSON.stringify(mapping.body));
      const pushed = await api(api1.url, token, 'POST', `/api/stores/${storeId}/messages`, {
        message: 'acme:roles:x',
        payload: {},
      });
      assert.equal(pushed.status, 201);
      const [req] = await endpoint.waitFor(1, 15_000);
      assert.equal(req!.body.parent_id, pushed.body.message_id);
    } finally {
      await endpoint.close();
    }
  });

  test('a killed worker holds only what its lanes could start, and another takes over within lease + sweep', async () => {
    // the endpoint answers nothing while the first worker runs: its copies stay leased to it
    let open = false;
    const endpoint = await TestEndpoint.start(async () => {
      while (!open) await new Promise((r) => setTimeout(r, 20));
      return { body: {} };
    });
    try {
      // the earlier tests' processes would share the work: only this test's run from here
      for (const p of procs)
        if (p.child.exitCode === null) {
          p.child.kill('SIGTERM');
          await p.exited;
        }
      const api1 = await start(['--role', 'api']);
      const concurrency = 2;
      const mapping = await api(api1.url, token, 'POST', `/api/stores/${storeId}/mappings`, {
        name: 'takeover.sink',
        url: `${endpoint.url}/takeover`,
        token: 'x',
        messages: ['acme:takeover:x'],
        options: { concurrency },
      });
      assert.equal(mapping.status, 201, JSON.stringify(mapping.body));
      const worker = await start(['--role', 'worker']);
      const n = 60;
      for (let i = 0; i < n; i++) {
        const pushed = await api(api1.url, token, 'POST', `/api/stores/${storeId}/messages`, {
          message: 'acme:takeover:x',
          payload: { i },
        });
        assert.equal(pushed.status, 201);
      }
      const counts = async () =>
        (await api(api1.url, token, 'GET', `/api/stores/${storeId}/queues`)).body as Record<
          'incoming' | 'pending' | 'running' | 'failing',
          number
        >;
      await eventually(async () => (await counts()).incoming === 0, 15_000, 'intake');
      await endpoint.waitFor(concurrency, 15_000);
      await new Promise((r) => setTimeout(r, 300)); // a lease statement that would take more, has
      const held = (await counts()).running;
      // what runs plus one wave queued per lane, and the few a lease takes for new lanes
      // (src/pipeline/delivery/lease-room.ts): not the 100 of a lease statement's batch
      assert.ok(held >= concurrency && held <= 16 + 2 * concurrency, `the worker holds ${held}`);

      // the second worker starts first (a process start is seconds on a loaded machine, and is no
      // part of the takeover): it leases what is still pending, and the endpoint answers once the
      // first worker is gone
      await start(['--role', 'worker']);
      worker.child.kill('SIGKILL');
      await worker.exited;
      const killedAt = Date.now();
      open = true;
      await eventually(
        async () => {
          const c = await counts();
          return c.pending + c.running + c.failing === 0;
        },
        20_000,
        'every copy delivered',
      );
      // --lease-seconds 3: the leases run out 3 s after their last renewal (at most a third of
      // that before the kill), and the sweeper runs every second (a sixth of 3 s, at least 1 s);
      // with a margin for a loaded machine, still well under the 3 + 15 s of a 15 s sweep
      const took = Date.now() - killedAt;
      assert.ok(took < 3_000 + 1_000 + 6_000, `the takeover took ${took} ms`);
      assert.ok(endpoint.received.length >= n);
    } finally {
      open = true;
      await endpoint.close();
    }
  });
});
