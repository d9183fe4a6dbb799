import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { bannerCredentials, serve } from '../helpers/process.js';

async function api(url: string, token: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) {
  const res = await request(`${url}${path}`, {
    method,
    headers: { 'x-augury-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

test('kill -9 mid-delivery: after a restart every acknowledged copy reaches the endpoint at least once', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'switchyard-delivery-crash-'));
  const endpoint = await TestEndpoint.start(() => ({ delayMs: 50, body: {} }));
  try {
    const first = await serve(['--data', data]);
    const { storeId, token } = bannerCredentials(first.output());
    const base = `/api/stores/${storeId}`;
    const mapping = await api(first.url, token, 'POST', `${base}/mappings`, {
      name: 'crash.sink',
      url: `${endpoint.url}/sink`,
      token: 'sink-token',
      messages: ['stock:change'],
      options: { concurrency: 10 },
    });
    assert.equal(mapping.status, 201, JSON.stringify(mapping.body));

    const total = 300;
    const acknowledged = new Set<string>();
    await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const res = await api(first.url, token, 'POST', `${base}/messages`, {
          message: 'stock:change',
          payload: { sku: `S${i}`, quantity: i },
        });
        if (res.status === 201) acknowledged.add(res.body.message_id);
      }),
    );
    assert.equal(acknowledged.size, total);
    await endpoint.waitFor(60, 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeRestart = endpoint.received.length;

    const second = await serve(['--data', data]);
    try {
      const parents = () => new Set(endpoint.received.map((r) => r.body.parent_id as string));
      try {
        await eventually(
          async () => parents().size === total,
          60_000,
          'every acknowledged message to be delivered',
        );
      } catch (err) {
        const c = await api(second.url, token, 'GET', `${base}/queues`);
        const failing = await api(second.url, token, 'GET', `${base}/queues/accepted?state=failing`);
        t.diagnostic(
          `counts ${JSON.stringify(c.body)} received ${endpoint.received.length} distinct ${parents().size}`,
        );
        t.diagnostic(JSON.stringify(failing.body.slice(0, 2)));
        if (failing.body[0])
          t.diagnostic(
            JSON.stringify(
              (await api(second.url, token, 'GET', `${base}/messages/${failing.body[0].id}`)).body
                .attempts_log,
            ),
          );
        throw err;
      }
      for (const id of acknowledged) assert.ok(parents().has(id), `message ${id} never reached the endpoint`);
      const counts = new Map<string, number>();
      for (const r of endpoint.received)
        counts.set(r.body.message_id, (counts.get(r.body.message_id) ?? 0) + 1);
      const twice = [...counts.values()].filter((n) => n > 1).length;
      t.diagnostic(
        `${total} acknowledged, ${beforeRestart} requests before the kill, ${twice} copies delivered twice`,
      );
      // only copies in flight at the kill can be delivered twice
      assert.ok(twice <= 40, `${twice} duplicates: more than the in-flight window`);
      const counts2 = await eventually(async () => {
        const c = await api(second.url, token, 'GET', `${base}/queues`);
        return c.body.pending + c.body.running + c.body.incoming === 0 ? c.body : undefined;
      }, 30_000);
      assert.equal(counts2.failing + counts2.parked, 0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    await endpoint.close();
    rmSync(data, { recursive: true, force: true });
  }
});

test('SIGTERM lets in-flight deliveries finish, then exits 0', async () => {
  const data = mkdtempSync(join(tmpdir(), 'switchyard-graceful-'));
  const endpoint = await TestEndpoint.start(() => ({ delayMs: 700, body: {} }));
  try {
    const hub = await serve(['--data', data]);
    const { storeId, token } = bannerCredentials(hub.output());
    const base = `/api/stores/${storeId}`;
    await api(hub.url, token, 'POST', `${base}/mappings`, {
      name: 'slow.sink',
      url: `${endpoint.url}/slow`,
      token: 'x',
      messages: ['acme:slow:x'],
    });
    for (let i = 0; i < 3; i++)
      await api(hub.url, token, 'POST', `${base}/messages`, { message: 'acme:slow:x', payload: { i } });
    await endpoint.waitFor(3, 10_000);
    hub.child.kill('SIGTERM');
    assert.equal(await hub.exited, 0);

    const again = await serve(['--data', data]);
    try {
      const counts = (await api(again.url, token, 'GET', `${base}/queues`)).body;
      assert.equal(counts.pending + counts.running + counts.failing, 0, JSON.stringify(counts));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(endpoint.received.length, 3, 'nothing was delivered twice');
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  } finally {
    await endpoint.close();
    rmSync(data, { recursive: true, force: true });
  }
});
