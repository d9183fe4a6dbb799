import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { lazyChildLogger } from '../../src/http/lazy-logger.js';
import { createLogger } from '../../src/hub.js';

function capture(level: 'warn' | 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger(level, sink) as unknown as FastifyBaseLogger, lines };
}

test('a request logger writes only what its level lets through, every line with the request id', () => {
  const { logger, lines } = capture('warn');
  const log = lazyChildLogger(logger, { reqId: 'r-1' }, {});
  log.info('not written');
  log.debug('not written either');
  assert.equal(lines.length, 0);
  assert.equal(log.level, 'warn');
  log.error({ err: new Error('boom') }, 'request failed');
  log.warn('careful');
  assert.deepEqual(
    lines.map((l) => [l.reqId, l.msg]),
    [
      ['r-1', 'request failed'],
      ['r-1', 'careful'],
    ],
  );
  assert.equal((lines[0]?.err as { message: string } | undefined)?.message, 'boom');
  // a grandchild keeps both bindings; secrets are still redacted (the parent's settings)
  log.child({ component: 'x' }).warn({ token: 'secret' }, 'nested');
  assert.equal(lines[2]?.reqId, 'r-1');
  assert.equal(lines[2]?.component, 'x');
  assert.equal(lines[2]?.token, '[redacted]');
});

test('a request logger follows the parent level, and a route level makes a real child at once', () => {
  const { logger, lines } = capture('info');
  lazyChildLogger(logger, { reqId: 'r-2' }, {}).info('incoming');
  assert.deepEqual([lines[0]?.reqId, lines[0]?.msg], ['r-2', 'incoming']);
  const debug = lazyChildLogger(logger, { reqId: 'r-3' }, { level: 'debug' });
  debug.debug('route-level debug');
  assert.deepEqual([lines[1]?.reqId, lines[1]?.msg], ['r-3', 'route-level debug']);
  // raising the child's level is the child's own
  const quiet = lazyChildLogger(logger, { reqId: 'r-4' }, {});
  quiet.level = 'error';
  quiet.info('dropped');
  assert.equal(lines.length, 2);
  assert.equal(logger.level, 'info');
});
