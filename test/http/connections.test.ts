import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createLogger, startHub } from '../../src/hub.js';
import { openStorage } from '../../src/storage/open.js';
import { freshDatabase } from '../helpers/databases.js';

/**
 * Connection hygiene on a real socket (src/http/connections.ts): connections that send nothing,
 * or a header a byte at a time, are closed once the header timeout passes, and past the cap a
 * new connection is closed at once, while a client that asks properly is served. The timeouts
 * are shortened for the test; the code paths are the production ones.
 */
async function hub(maxConnections: number) {
  const db = await freshDatabase('sqlite');
  const config = loadConfig({ dataDir: db.dataDir, databaseUrl: db.url, port: 0, maxConnections }, {});
  const storage = await openStorage(config);
  const started = await startHub(config, {
    storage,
    logger: createLogger('silent'),
    connections: { headersTimeoutMs: 800, checkEveryMs: 200, keepAliveTimeoutMs: 500 },
  });
  const { port } = new URL(started.url);
  return {
    port: Number(port),
    url: started.url,
    async close() {
      await started.close();
      await storage.close();
      await db.drop();
    },
  };
}

function open(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const openedAt = Date.now();
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - openedAt)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

test('idle and slowloris connections are closed after the header timeout; a good client is served', async () => {
  const h = await hub(1000);
  const timers: NodeJS.Timeout[] = [];
  try {
    const idle = await Promise.all(Array.from({ length: 50 }, () => open(h.port)));
    const slow = await Promise.all(Array.from({ length: 20 }, () => open(h.port)));
    const header = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
    for (const { socket } of slow) {
      let i = 0;
      socket.write(header);
      // one more byte every 100 ms: activity enough for an idle timeout, never a complete header
      timers.push(setInterval(() => socket.writable && socket.write(String(i++ % 10)), 100));
    }
    const healthy = await fetch(`${h.url}/healthz`);
    assert.equal(healthy.status, 200);
    const lifetimes = await Promise.all([...idle, ...slow].map((c) => c.closed));
    // 800 ms for the header, checked every 200 ms: all gone within ~1 s, none within 0.7 s
    for (const ms of lifetimes) assert.ok(ms >= 700 && ms < 3000, `a connection lived ${ms} ms`);
  } finally {
    for (const t of timers) clearInterval(t);
    await h.close();
  }
});

test('past maxConnections a new connection is closed at once', async () => {
  const h = await hub(5);
  try {
    const held = await Promise.all(Array.from({ length: 5 }, () => open(h.port)));
    const extra = await open(h.port);
    const lived = await extra.closed;
    assert.ok(lived < 500, `the sixth connection lived ${lived} ms`);
    for (const { socket } of held) socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    const served = await fetch(`${h.url}/healthz`);
    assert.equal(served.status, 200);
  } finally {
    await h.close();
  }
});
