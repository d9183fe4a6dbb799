import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { ConnectionWatch } from '../../src/pipeline/connection-watch.js';

function collectingLogger() {
  const lines: { level: number; msg: string; down_ms?: number }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

test('a lost connection that recovers is one warn and one info line; one that lasts becomes an error', async () => {
  const { log, lines } = collectingLogger();
  const watch = new ConnectionWatch(log, 'pool', 30_000);
  assert.equal(watch.failed(refused, 1000), true);
  assert.equal(watch.failed(refused, 1500), true);
  watch.succeeded(1300 + 1000);
  watch.succeeded(5000);
  // a statement that failed is not a lost connection: the caller logs it
  assert.equal(watch.failed(Object.assign(new Error('syntax error'), { code: '42601' }), 6000), false);
  // down for good: an error after 30 s, again after another 30 s, then the recovery
  watch.failed(refused, 10_000);
  watch.failed(refused, 39_999);
  watch.failed(refused, 40_000);
  watch.failed(refused, 50_000);
  watch.failed(refused, 70_000);
  watch.succeeded(71_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      [40, 'lost connection to PostgreSQL, reconnecting'],
      [30, 'reconnected after 1300 ms'],
      [40, 'lost connection to PostgreSQL, reconnecting'],
      [50, 'no connection to PostgreSQL for 30 s; still retrying'],
      [50, 'no connection to PostgreSQL for 60 s; still retrying'],
      [30, 'reconnected after 61000 ms'],
    ],
  );
});
