import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { ADMIN_TOKEN, testHub } from '../helpers/hub.js';
import { call } from '../helpers/mappings.js';

/**
 * The noisy neighbour (docs/security.md, "Fair delivery"): store B's endpoint never answers and B
 * has 400 copies for four mappings, each at the most concurrency the hub allows; store A's 100
 * pushes are all delivered within seconds all the same, and B never holds more than half the
 * process's slots. Real endpoints on 127.0.0.1, through the public API.
 */
/** An endpoint that answers nothing until `release()`: every request to it holds its slot. */
async function hungEndpoint() {
  let open = false;
  const endpoint = await TestEndpoint.start(async () => {
    while (!open) await new Promise((r) => setTimeout(r, 50));
    return { body: {} };
  });
  return {
    endpoint,
    release: () => {
      open = true;
    },
  };
}

for (const backend of backends()) {
  describe(`noisy neighbour (${backend})`, () => {
    test("a store whose endpoint hangs cannot hold back another store's deliveries", async () => {
      const { endpoint: hung, release } = await hungEndpoint();
      const fast = await TestEndpoint.start();
      const t = await testHub(backend, { workers: { shutdownGraceMs: 200 } });
      const inject = async (
        method: 'POST' | 'GET',
        url: string,
        headers: Record<string, string>,
        body?: unknown,
      ) => {
        const res = await t.hub.app.inject({
          method,
          url,
          headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { payload: JSON.stringify(body) } : {}),
        });
        return { status: res.statusCode, body: res.json() };
      };
      try {
        const b = (await inject('POST', '/api/stores', { 'x-admin-token': ADMIN_TOKEN }, { name: 'Noisy' }))
          .body;
        const asB = { 'x-augury-token': b.token as string };
        for (let i = 0; i < 4; i++) {
          const m = await inject('POST', `/api/stores/${b.id}/mappings`, asB, {
            name: `hung.m${i}`,
            url: `${hung.url}/m${i}`,
            token: 'k',
            messages: ['acme:noise:x'],
            options: { concurrency: 64, timeout_ms: 60_000 },
          });
          assert.equal(m.status, 201, JSON.stringify(m.body));
        }
        const a = await inject(
          'POST',
          `/api/stores/${t.storeId}/mappings`,
          { 'x-augury-token': t.token },
          {
            name: 'quiet.sink',
            url: `${fast.url}/sink`,
            token: 'k',
            messages: ['acme:quiet:x'],
          },
        );
        assert.equal(a.status, 201);
        for (let i = 0; i < 100; i++) {
          const pushed = await inject('POST', `/api/stores/${b.id}/messages`, asB, {
            message: 'acme:noise:x',
            payload: { i },
          });
          assert.equal(pushed.status, 201);
        }
        // B's deliveries have taken what they may: the hung endpoint holds them
        await eventually(async () => hung.inFlight >= 64, 15_000, "B's deliveries in flight");
        await new Promise((r) => setTimeout(r, 300));
        const startedAt = Date.now();
        for (let i = 0; i < 100; i++) {
          const pushed = await t.push({ message: 'acme:quiet:x', payload: { i } });
          assert.equal(pushed.status, 201);
        }
        await fast.waitFor(100, 15_000);
        const took = Date.now() - startedAt;
        assert.ok(took < 5_000, `A's 100 pushes were delivered in ${took} ms`);
        // half the process's 256 slots at most, however many mappings B has
        assert.ok(hung.maxInFlight <= 128, `B held ${hung.maxInFlight} slots`);
        assert.ok(hung.maxInFlight >= 64, `B held ${hung.maxInFlight} slots`);
      } finally {
        release();
        await t.close();
        await hung.close();
        await fast.close();
      }
    });

    test('deleting a mapping aborts its deliveries in flight and parks their copies at once', async () => {
      const { endpoint: hung, release } = await hungEndpoint();
      const t = await testHub(backend, { workers: { shutdownGraceMs: 200 } });
      try {
        const created = await call(t, 'POST', 'mappings', {
          name: 'hung.deleted',
          url: `${hung.url}/svc`,
          token: 'k',
          messages: ['acme:gone:x'],
          options: { concurrency: 3, timeout_ms: 60_000 },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        for (let i = 0; i < 5; i++)
          assert.equal((await t.push({ message: 'acme:gone:x', payload: { i } })).status, 201);
        await eventually(async () => hung.inFlight === 3, 15_000, 'three deliveries in flight');
        const deletedAt = Date.now();
        assert.equal((await call(t, 'DELETE', `mappings/${created.body.id}`)).status, 204);
        const parked = await eventually(
          async () => {
            const list = (await call(t, 'GET', 'queues/accepted?state=parked')).body as { id: string }[];
            return list.length === 5 ? list : undefined;
          },
          10_000,
          'all five copies parked',
        );
        assert.ok(Date.now() - deletedAt < 8_000, 'parked at once, not after the 60 s timeout');
        const reasons = await Promise.all(
          parked.map(async (c) => (await call(t, 'GET', `messages/${c.id}`)).body.last_error as string),
        );
        // the three in flight were aborted; the two waiting in the lane found their mapping gone
        assert.equal(
          reasons.filter((r) => /deleted while it was being delivered/.test(r)).length,
          3,
          reasons.join('\n'),
        );
        assert.equal(
          reasons.filter((r) => r === 'the mapping of this message was deleted').length,
          2,
          reasons.join('\n'),
        );
      } finally {
        release();
        await t.close();
        await hung.close();
      }
    });

    test("within a store, a hung endpoint cannot hold back the store's other endpoints", async () => {
      const { endpoint: hung, release } = await hungEndpoint();
      const fast = await TestEndpoint.start();
      const t = await testHub(backend, { workers: { shutdownGraceMs: 200 } });
      try {
        for (let i = 0; i < 2; i++) {
          const m = await call(t, 'POST', 'mappings', {
            name: `erp.m${i}`,
            url: `${hung.url}/m${i}`,
            token: 'k',
            messages: ['acme:erp:x'],
            options: { concurrency: 64, timeout_ms: 60_000 },
          });
          assert.equal(m.status, 201, JSON.stringify(m.body));
        }
        const mail = await call(t, 'POST', 'mappings', {
          name: 'mail.sink',
          url: `${fast.url}/sink`,
          token: 'k',
          messages: ['acme:mail:x'],
        });
        assert.equal(mail.status, 201);
        for (let i = 0; i < 100; i++)
          assert.equal((await t.push({ message: 'acme:erp:x', payload: { i } })).status, 201);
        await eventually(async () => hung.inFlight >= 64, 15_000, 'the hung endpoint at its share');
        await new Promise((r) => setTimeout(r, 300));
        const startedAt = Date.now();
        for (let i = 0; i < 50; i++)
          assert.equal((await t.push({ message: 'acme:mail:x', payload: { i } })).status, 201);
        await fast.waitFor(50, 15_000);
        const took = Date.now() - startedAt;
        assert.ok(took < 5_000, `the other endpoint's 50 copies took ${took} ms`);
        // half of the store's 128, though its two mappings ask for 64 each
        assert.ok(hung.maxInFlight <= 64, `the hung endpoint held ${hung.maxInFlight} slots`);
      } finally {
        release();
        await t.close();
        await hung.close();
        await fast.close();
      }
    });
  });
}
