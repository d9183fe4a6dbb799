import assert from 'node:assert/strict';
import { fdatasync } from 'node:fs';
import { describe, test } from 'node:test';
import type { loadConfig } from '../../src/config.js';
import { sqliteFile } from '../../src/storage/open.js';
import { openSqlite } from '../../src/storage/sqlite/open.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

/**
 * SQLite with the WAL syncer: a push's 201 waits for the disk, its delivery does not. The copies
 * of a push routed at once go to the engine at COMMIT, while the WAL's fdatasync still runs (on
 * PostgreSQL the COMMIT is itself durable, so there is nothing to overlap).
 */
/**
 * A SQLite test hub whose WAL is synced with `datasync`, mapped to a fresh endpoint, with one
 * message pushed and delivered: the engine has leased and found nothing waiting, intake is idle.
 */
async function deliveredOnce(datasync: typeof fdatasync) {
  const endpoint = await TestEndpoint.start();
  const t = await testHub('sqlite', {
    openStorage: async (config: ReturnType<typeof loadConfig>) => {
      const storage = openSqlite(sqliteFile(config.databaseUrl, config.dataDir), 'full', { datasync });
      await storage.migrate();
      return storage;
    },
  });
  await createMapping(t, { url: `${endpoint.url}/svc`, messages: ['order:new'] });
  const first = await t.push({ message: 'order:new', payload: { order: { number: 'A' } } });
  assert.equal(first.status, 201);
  await endpoint.waitFor(1);
  await t.drained();
  return { t, endpoint };
}

describe('deliveries do not wait for the disk sync (SQLite)', () => {
  test('a push routed at once reaches its endpoint before its sync; its 201 waits for it', async () => {
    let hold = false;
    const held: (() => void)[] = [];
    const datasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      if (hold) held.push(() => fdatasync(fd, cb));
      else fdatasync(fd, cb);
    }) as typeof fdatasync;
    const { t, endpoint } = await deliveredOnce(datasync);
    try {
      await new Promise((r) => setTimeout(r, 200));

      hold = true;
      let answered = false;
      const second = t.push({ message: 'order:new', payload: { order: { number: 'B' } } }).then((r) => {
        answered = true;
        return r;
      });
      const received = await endpoint.waitFor(2);
      assert.equal(received[1]!.body.payload.order.number, 'B');
      assert.equal(answered, false, 'the push is not answered while its sync is held');
      assert.ok(held.length > 0, 'a sync is waiting');

      // more pushes while the disk is stuck: each one is delivered, though the settlements of
      // the earlier deliveries all wait for the sync (they do not make the engine look busy)
      const more: Promise<unknown>[] = [];
      for (let i = 0; i < 12; i++) {
        more.push(t.push({ message: 'order:new', payload: { order: { number: `C${i}` } } }));
        await endpoint.waitFor(3 + i, 3000);
      }
      assert.equal(answered, false);

      hold = false;
      for (const release of held.splice(0)) release();
      const res = await second;
      assert.equal(res.status, 201);
      assert.equal(res.body.message_id !== undefined, true);
      for (const r of (await Promise.all(more)) as { status: number }[]) assert.equal(r.status, 201);
    } finally {
      hold = false;
      for (const release of held.splice(0)) release();
      await t.close();
      await endpoint.close();
    }
  });

  test('after a failed sync, pushes are refused before they commit: nothing more is delivered', async () => {
    let fail = false;
    const datasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      if (!fail) return fdatasync(fd, cb);
      const err: NodeJS.ErrnoException = new Error('EIO: i/o error');
      err.code = 'EIO';
      setImmediate(() => cb(err));
    }) as typeof fdatasync;
    const { t, endpoint } = await deliveredOnce(datasync);
    try {
      fail = true;
      // the push that meets the failing disk is not acknowledged (its copy may have gone out)
      const failed = await t.push({ message: 'order:new', payload: { order: { number: 'B' } } });
      assert.equal(failed.status, 500);
      await new Promise((r) => setTimeout(r, 300));
      const seen = endpoint.received.length;
      fail = false; // the disk "recovers": the hub still acknowledges nothing until restarted
      for (const n of ['C', 'D']) {
        const res = await t.push({ message: 'order:new', payload: { order: { number: n } } });
        assert.equal(res.status, 500);
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(endpoint.received.length, seen, 'no copy of a refused push was delivered');
      assert.ok(!endpoint.received.some((r) => ['C', 'D'].includes(r.body.payload.order.number)));
    } finally {
      fail = false;
      await t.close().catch(() => {});
      await endpoint.close();
    }
  });
});
