import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call, copyIn, createMapping } from '../helpers/mappings.js';

/**
 * A Standard Webhooks verifier written from the standard, independent of the hub's signer:
 * HMAC-SHA256 over "id.timestamp.body" with the base64-decoded `whsec_` secret, any of the
 * space-separated `v1,` signatures may match, timestamps within five minutes.
 */
function verify(secret: string, headers: Record<string, unknown>, body: string, now = Date.now()): boolean {
  const id = String(headers['webhook-id']);
  const ts = Number(headers['webhook-timestamp']);
  if (!Number.isFinite(ts) || Math.abs(now / 1000 - ts) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return String(headers['webhook-signature'])
    .split(' ')
    .some((part) => {
      const [version, sig] = part.split(',');
      const given = Buffer.from(sig ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

for (const backend of backends()) {
  describe(`delivery protocols (${backend})`, () => {
    let t: TestHub;
    let endpoint: TestEndpoint;
    before(async () => {
      t = await testHub(backend);
      endpoint = await TestEndpoint.start();
    });
    after(async () => {
      await t.close();
      await endpoint.close();
    });

    test('signatures verify with a Standard Webhooks verifier; a tampered body does not', async () => {
      const secret = `whsec_${Buffer.from('a-very-secret-signing-key-123').toString('base64')}`;
      const m = await createMapping(t, {
        url: `${endpoint.url}/signed`,
        messages: ['acme:signed:x'],
        options: { signing_secret: secret },
      });
      endpoint.received.length = 0;
      await t.push({ message: 'acme:signed:x', payload: { n: 1 } });
      const [req] = await endpoint.waitFor(1);
      assert.equal(req!.headers['webhook-id'], req!.body.message_id);
      assert.ok(verify(secret, req!.headers, req!.raw), 'signature verifies');
      assert.ok(!verify(secret, req!.headers, req!.raw.replace('"n":1', '"n":2')), 'tampered body fails');
      assert.ok(!verify(secret, req!.headers, req!.raw, Date.now() + 10 * 60_000), 'stale timestamp fails');
      await call(t, 'DELETE', `mappings/${m.id}`);
    });

    test('asynchronous endpoint: scheduled, then polled at update_url with the original body until done', async () => {
      endpoint.received.length = 0;
      endpoint.handler = (r) =>
        r.path === '/jobs'
          ? { body: { message_id: r.body.message_id, delay: 1, update_url: '/jobs/poll' } }
          : endpoint.received.filter((x) => x.path === '/jobs/poll').length < 2
            ? { body: { message_id: r.body.message_id, delay: 0.2 } }
            : { body: { message_id: r.body.message_id, done: true } };
      const m = await createMapping(t, { url: `${endpoint.url}/jobs`, messages: ['acme:job:start'] });
      const pushed = await t.push({ message: 'acme:job:start', payload: { job: 9 } });
      const copyId = (await copyIn(t, pushed.body.message_id, ['scheduled'])).id;
      const scheduled = (await call(t, 'GET', `queues`)).body;
      assert.ok(scheduled.scheduled >= 1);
      const done = await eventually(async () => {
        const d = (await call(t, 'GET', `messages/${copyId}`)).body;
        return d.state === 'completed' ? d : undefined;
      }, 10_000);
      const polls = endpoint.received.filter((x) => x.path === '/jobs/poll');
      assert.equal(polls.length, 2);
      assert.equal(polls[0]!.raw, endpoint.received[0]!.raw, 'the poll carries the original request body');
      assert.ok(polls[0]!.at - endpoint.received[0]!.at >= 900, 'waited the delay');
      assert.deepEqual(done.result, { message_id: copyId, done: true });
      assert.equal(done.attempts, 3);
      await call(t, 'DELETE', `mappings/${m.id}`);
    });

    test("an update_url off the mapping's host, or no URL at all, parks the copy: no token sent there, no job posted twice", async () => {
      endpoint.received.length = 0;
      let target = 'http://169.254.169.254/latest';
      endpoint.handler = (r) => ({ body: { message_id: r.body.message_id, delay: 1, update_url: target } });
      const m = await createMapping(t, { url: `${endpoint.url}/elsewhere`, messages: ['acme:job:away'] });
      const posted = () => endpoint.received.filter((r) => r.path === '/elsewhere').length;
      for (const [url, reason] of [
        [target, /update_url "http:\/\/169\.254\.169\.254\/latest" is not on the mapping's host/],
        ['http://[::1', /update_url "http:\/\/\[::1" is not a URL/],
      ] as const) {
        target = url;
        const pushed = await t.push({ message: 'acme:job:away', payload: {} });
        const copy = await copyIn(t, pushed.body.message_id, ['parked']);
        const detail = (await call(t, 'GET', `messages/${copy.id}`)).body;
        assert.match(detail.last_error, reason);
        assert.match(detail.reason, reason);
      }
      assert.equal(posted(), 2, 'each job posted once');
      await call(t, 'DELETE', `mappings/${m.id}`);
    });

    test('a reply chain deeper than 16 hops is stopped by the loop guard', async () => {
      endpoint.received.length = 0;
      endpoint.handler = (r) => ({
        body: { messages: [{ message: 'acme:loop:tick', payload: { n: (r.body.payload.n ?? 0) + 1 } }] },
      });
      const m = await createMapping(t, { url: `${endpoint.url}/loop`, messages: ['acme:loop:tick'] });
      await t.push({ message: 'acme:loop:tick', payload: { n: 0 } });
      const invalid = await eventually(async () => {
        const list = (await call(t, 'GET', 'queues/archived?state=invalid&message=acme:loop:tick')).body;
        return list.length > 0 ? list[0] : undefined;
      }, 15_000);
      const detail = (await call(t, 'GET', `messages/${invalid.id}`)).body;
      assert.equal(detail.reason, 'loop');
      assert.equal(detail.payload.n, 17);
      assert.equal(endpoint.received.length, 17);
      await call(t, 'DELETE', `mappings/${m.id}`);
    });

    test('concurrency caps in-flight deliveries of a mapping', async () => {
      endpoint.received.length = 0;
      endpoint.maxInFlight = 0;
      endpoint.handler = () => ({ delayMs: 60, body: {} });
      const m = await createMapping(t, {
        url: `${endpoint.url}/slow`,
        messages: ['acme:slow:x'],
        options: { concurrency: 2 },
      });
      for (let i = 0; i < 8; i++) await t.push({ message: 'acme:slow:x', payload: { i } });
      await endpoint.waitFor(8);
      assert.equal(endpoint.maxInFlight, 2);
      await call(t, 'DELETE', `mappings/${m.id}`);
    });

    test('ordering_key: the same key goes one at a time, in order, also across a failure', async () => {
      endpoint.received.length = 0;
      endpoint.maxInFlight = 0;
      let failedOnce = false;
      endpoint.handler = (r) => {
        if (r.body.payload.sku === 'A' && r.body.payload.seq === 1 && !failedOnce) {
          failedOnce = true;
          return { status: 500 };
        }
        return { delayMs: 20, body: {} };
      };
      const m = await createMapping(t, {
        url: `${endpoint.url}/stock`,
        messages: ['stock:change'],
        options: { ordering_key: 'payload.sku', concurrency: 10 },
      });
      for (let seq = 0; seq < 4; seq++) {
        for (const sku of ['A', 'B'])
          await t.push({ message: 'stock:change', payload: { sku, quantity: seq, seq } });
      }
      // A's seq 1 failed and waits for its backoff: A's later changes must wait behind it
      await eventually(async () => endpoint.received.filter((r) => r.body.payload.sku === 'B').length === 4);
      const a = () =>
        endpoint.received.filter((r) => r.body.payload.sku === 'A').map((r) => r.body.payload.seq);
      assert.deepEqual(a(), [0, 1]);
      const failing = (await call(t, 'GET', `queues/accepted?state=failing&mapping_id=${m.id}`)).body[0];
      await call(t, 'PUT', `messages/${failing.id}`, { attempt_now: true });
      await eventually(async () => a().length === 5);
      assert.deepEqual(a(), [0, 1, 1, 2, 3]);
      assert.deepEqual(
        endpoint.received.filter((r) => r.body.payload.sku === 'B').map((r) => r.body.payload.seq),
        [0, 1, 2, 3],
      );
      await call(t, 'DELETE', `mappings/${m.id}`);
    });

    test('a deleted mapping parks its remaining copies, the one in flight included', async () => {
      endpoint.received.length = 0;
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      endpoint.handler = async () => {
        await gate;
        return { body: {} };
      };
      const m = await createMapping(t, {
        url: `${endpoint.url}/gone`,
        messages: ['acme:gone:x'],
        options: { concurrency: 1 },
      });
      await t.push({ message: 'acme:gone:x', payload: {} });
      await t.push({ message: 'acme:gone:x', payload: {} });
      await endpoint.waitFor(1);
      await call(t, 'DELETE', `mappings/${m.id}`);
      release();
      // the copy in flight is aborted by the delete and parked too (docs/delivery.md)
      const parked = await eventually(async () => {
        const list = (await call(t, 'GET', `queues/accepted?state=parked&mapping_id=${m.id}`)).body;
        return list.length === 2 ? list : undefined;
      }, 10_000);
      assert.equal(parked.length, 2);
    });
  });
}

describe('leases outlive slow deliveries', () => {
  test('a delivery slower than the lease is not handed to another worker: the heartbeat renews it', async () => {
    const t = await testHub('sqlite', { config: { leaseSeconds: 1 } });
    const endpoint = await TestEndpoint.start(() => ({ delayMs: 3000, body: {} }));
    try {
      await createMapping(t, {
        url: `${endpoint.url}/slow`,
        messages: ['acme:slow:lease'],
        options: { timeout_ms: 10_000 },
      });
      const pushed = await t.push({ message: 'acme:slow:lease', payload: {} });
      await endpoint.waitFor(1);
      // three lease lifetimes later, with the sweeper running every 200 ms, it must still be the only request
      const copy = await copyIn(t, pushed.body.message_id, ['completed']);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(endpoint.received.length, 1);
      assert.equal(copy.attempts, 1);
    } finally {
      await t.close();
      await endpoint.close();
    }
  });
});
