import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { ADMIN_TOKEN, type TestHub, testHub } from '../helpers/hub.js';

/**
 * Per-store rate limits through the public API (src/http/rate-limit.ts): past its bucket a store
 * gets 429 with Retry-After and RateLimit-* headers and nothing is stored, while another store
 * pushes on; an admin sets and clears a store's own limits.
 */
for (const backend of backends()) {
  describe(`rate limits (${backend})`, () => {
    let t: TestHub;
    let other: { id: string; token: string };
    const admin = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
      t.hub.app
        .inject({
          method,
          url,
          headers: { 'x-admin-token': ADMIN_TOKEN, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { payload: JSON.stringify(body) } : {}),
        })
        .then((r) => ({ status: r.statusCode, body: r.json() }));
    const pushAs = (storeId: string, token: string) =>
      t.hub.app.inject({
        method: 'POST',
        url: `/api/stores/${storeId}/messages`,
        headers: { 'x-augury-token': token, 'content-type': 'application/json' },
        payload: JSON.stringify({ message: 'acme:limit:x', payload: {} }),
      });
    const total = async (storeId: string, token: string) => {
      const res = await t.hub.app.inject({
        method: 'GET',
        url: `/api/stores/${storeId}/queues`,
        headers: { 'x-augury-token': token },
      });
      return Object.values(res.json() as Record<string, number>).reduce((a, b) => a + b, 0);
    };

    before(async () => {
      // 1 push a second, bursts of 2; no limit on the rest of the API
      t = await testHub(backend, { config: { pushRate: 1 } });
      const created = await admin('POST', '/api/stores', { name: 'Neighbour' });
      other = { id: created.body.id, token: created.body.token };
    });
    after(() => t.close());

    test('past its burst a store gets 429 with the wait, nothing is stored, and another store pushes on', async () => {
      const before = await total(t.storeId, t.token);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await pushAs(t.storeId, t.token));
      assert.deepEqual(
        answers.map((a) => a.statusCode),
        [201, 201, 429],
      );
      const limited = answers[2]!;
      assert.equal(limited.headers['retry-after'], '1');
      assert.equal(limited.headers['ratelimit-limit'], '2');
      assert.equal(limited.headers['ratelimit-remaining'], '0');
      assert.match(
        limited.json().error,
        /^Too many pushes for this store: the limit is 1 a second \(bursts of 2\)\. Try again in 1 s\.$/,
      );
      assert.equal(answers[0]!.headers['ratelimit-remaining'], '1');
      assert.equal(await total(t.storeId, t.token), before + 2, 'the refused push stored nothing');
      // the other store has a bucket of its own, and reads are not pushes
      assert.equal((await pushAs(other.id, other.token)).statusCode, 201);
      assert.equal((await pushAs(other.id, other.token)).statusCode, 201);
      // a wrong token is a 401 and spends nothing of the store's bucket
      const wrong = await pushAs(other.id, 'sy_not-the-token');
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.headers['ratelimit-limit'], undefined);
      // a second later one more push is allowed
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await pushAs(t.storeId, t.token)).statusCode, 201);
    });

    test("an admin sets a store's own limits, for pushes and the rest of the API, and clears them", async () => {
      const set = await admin('PATCH', `/api/stores/${other.id}`, {
        limits: { push_rate: 0, api_rate: 1, api_burst: 1 },
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(set.body.limits, { push_rate: 0, api_rate: 1, api_burst: 1 });
      assert.deepEqual((await admin('GET', `/api/stores/${other.id}`)).body.limits, set.body.limits);
      // push_rate 0: unlimited for this store, whatever the hub's setting
      for (let i = 0; i < 5; i++) assert.equal((await pushAs(other.id, other.token)).statusCode, 201);
      const read = () =>
        t.hub.app.inject({
          method: 'GET',
          url: `/api/stores/${other.id}/queues`,
          headers: { 'x-augury-token': other.token },
        });
      assert.equal((await read()).statusCode, 200);
      const limited = await read();
      assert.equal(limited.statusCode, 429);
      assert.match(limited.json().error, /^Too many API requests for this store/);

      const cleared = await admin('PATCH', `/api/stores/${other.id}`, { limits: null });
      assert.equal(cleared.body.limits, null);
      assert.equal((await read()).statusCode, 200);
      assert.equal((await read()).statusCode, 200);
    });

    test('limits out of range or unknown are a 422 naming the field, and change nothing', async () => {
      for (const limits of [{ push_rate: -1 }, { push_rate: 1.5 }, { push_speed: 3 }]) {
        const res = await admin('PATCH', `/api/stores/${other.id}`, { limits });
        assert.equal(res.status, 422, JSON.stringify(res.body));
        assert.ok(
          Object.keys(res.body.errors).some((p) => p.startsWith('/limits')),
          JSON.stringify(res.body),
        );
      }
      assert.equal((await admin('GET', `/api/stores/${other.id}`)).body.limits, null);
      assert.equal((await admin('PATCH', '/api/stores/no-such-store', { limits: null })).status, 404);
    });
  });
}
