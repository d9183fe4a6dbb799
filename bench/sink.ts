import { createServer } from 'node:http';

/**
 * The endpoint service the hub delivers to: answers every POST with 200 `{}` as soon as the body
 * has arrived. It counts requests and, in recording mode, keeps each request's `parent_id` with
 * its receipt time on the monotonic clock (process.hrtime, CLOCK_MONOTONIC: the same clock in
 * every process of the machine, so the harness can subtract its own send times).
 * The harness drives it over IPC: {cmd: 'reset', record}, {cmd: 'stats'}, {cmd: 'receipts'}.
 */
let count = 0;
let firstNs = 0n;
let lastNs = 0n;
let record = false;
let receipts: [string, number][] = [];

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = process.hrtime.bigint();
    if (count === 0) firstNs = now;
    lastNs = now;
    count++;
    if (record) {
      try {
        const parent = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { parent_id?: string })
          .parent_id;
        if (parent) receipts.push([parent, Number(now / 1000n)]);
      } catch {}
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
    res.end('{}');
  });
});
server.keepAliveTimeout = 65_000;

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`sink listening on http://127.0.0.1:${port}\n`);
});

process.on('message', (m: { id?: number; cmd?: string; record?: boolean }) => {
  let value: unknown = true;
  if (m.cmd === 'reset') {
    count = 0;
    firstNs = 0n;
    lastNs = 0n;
    record = m.record === true;
    receipts = [];
  } else if (m.cmd === 'stats') {
    value = { count, firstUs: Number(firstNs / 1000n), lastUs: Number(lastNs / 1000n) };
  } else if (m.cmd === 'receipts') {
    value = receipts;
  }
  process.send?.({ id: m.id, value });
});

const quit = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
process.on('disconnect', () => process.exit(0));
