import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { hubCall, queueCounts, readEld, resetEld, startHub, waitFor } from '../hub.js';
import { fire, PUSH_BODY } from '../load.js';
import { installExitHandlers, pinSelf, stopAll } from '../processes.js';
import { percentiles } from '../stats.js';

/**
 * One mapping saturated behind a large backlog, another with a trickle of messages: how long the
 * trickle waits, and what the skipping leases cost the event loop.
 * `node dist/bench/probes/fairness-probe.js [--backlog N] [--root OTHER_CHECKOUT]`
 */
const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? (argv[at + 1] ?? fallback) : fallback;
};
const backlog = Number(arg('--backlog', '100000'));
const root = arg('--root', '');
installExitHandlers();
pinSelf(1);

const sent = new Map<string, number>();
const latencies: number[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/slow') {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 20);
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { payload: { order: { number: string } } };
    const at = sent.get(body.payload.order.number);
    if (at !== undefined) latencies.push(performance.now() - at);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const sink = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const dir = mkdtempSync(join(tmpdir(), 'switchyard-fairness-'));
const hub = await startHub({ name: 'fairness', dataDir: dir, cpu: 0, ...(root ? { root } : {}) });
try {
  await hubCall(hub, 'POST', 'mappings', {
    name: 'erp.products',
    url: `${sink}/slow`,
    token: 't',
    messages: ['product:new'],
    options: { concurrency: 4 },
  });
  await hubCall(hub, 'POST', 'mappings', {
    name: 'mail.orders',
    url: `${sink}/fast`,
    token: 't',
    messages: ['order:new'],
  });
  await fire({
    url: `${hub.url}${hub.pushPath}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-augury-token': hub.token },
    body: PUSH_BODY,
    connections: 32,
    requests: backlog,
    timeoutMs: 300_000,
  });
  await waitFor(
    'intake',
    async () => ((await queueCounts(hub)).incoming === 0 ? true : undefined),
    300_000,
    200,
  );
  const before = await queueCounts(hub);
  await resetEld(hub.child);
  for (let i = 0; i < 100; i++) {
    const number = `O${i}`;
    sent.set(number, performance.now());
    await request(`${hub.url}${hub.pushPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-augury-token': hub.token },
      body: JSON.stringify({ message: 'order:new', payload: { order: { number } } }),
    }).then((r) => r.body.dump());
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitFor('trickle delivered', async () => (latencies.length >= 100 ? true : undefined), 60_000, 50);
  const eld = await readEld(hub.child);
  const p = percentiles(latencies);
  console.log(
    JSON.stringify({
      root: root || 'this',
      backlog,
      pendingWhenMeasured: before.pending,
      trickleMs: { p50: Math.round(p.p50), p99: Math.round(p.p99), max: Math.round(p.max) },
      slowest: [...latencies.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([i, v]) => [i, Math.round(v)]),
      eld,
    }),
  );
} finally {
  await stopAll();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
