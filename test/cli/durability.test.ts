import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { bannerCredentials, serve } from '../helpers/process.js';

test('every 201 survives kill -9 of the server and a restart', async () => {
  const data = mkdtempSync(join(tmpdir(), 'switchyard-crash-'));
  try {
    const first = await serve(['--data', data]);
    const { storeId, token } = bannerCredentials(first.output());
    const acknowledged: string[] = [];
    // Keep pushes in flight while the process is killed: only answered ones must survive.
    const pushOne = async (i: number) => {
      try {
        const res = await request(`${first.url}/api/stores/${storeId}/messages`, {
          method: 'POST',
          headers: { 'x-augury-token': token, 'content-type': 'application/json' },
          body: JSON.stringify({ message: 'stock:change', payload: { sku: `SKU-${i}`, quantity: i } }),
        });
        const body = (await res.body.json()) as { message_id: string };
        if (res.statusCode === 201) acknowledged.push(body.message_id);
      } catch {
        // connection cut by the kill: not acknowledged, so not owed
      }
    };
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      inflight.push(pushOne(i));
      if (i === 300) first.child.kill('SIGKILL');
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inflight);
    await first.exited;
    assert.ok(acknowledged.length > 0, 'some pushes were acknowledged before the kill');

    const second = await serve(['--data', data]);
    try {
      assert.doesNotMatch(second.output(), /Created "Default Store"/);
      for (const id of acknowledged) {
        const res = await request(`${second.url}/api/stores/${storeId}/messages/${id}`, {
          headers: { 'x-augury-token': token },
        });
        assert.equal(res.statusCode, 200, `acknowledged message ${id} was lost`);
        await res.body.dump();
      }
      // and intake finishes what the killed process left in the incoming queue
      let counts = { incoming: -1 };
      for (let i = 0; i < 200 && counts.incoming !== 0; i++) {
        const res = await request(`${second.url}/api/stores/${storeId}/queues`, {
          headers: { 'x-augury-token': token },
        });
        counts = (await res.body.json()) as { incoming: number };
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(counts.incoming, 0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
