import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/hub.js';
import { LogOutput, resolveLogFormat } from '../../src/log-output.js';

function sink(isTTY = false) {
  const chunks: string[] = [];
  const write = (c: string) => {
    chunks.push(c);
  };
  return { chunks, target: { isTTY, write } };
}

test('held log lines are written, in order, only once the output is opened', () => {
  const { chunks, target } = sink();
  const output = new LogOutput('json', target, { hold: true });
  const log = createLogger('info', output);
  log.info('first');
  log.warn('second');
  assert.equal(chunks.length, 0);
  target.write('banner\n');
  output.open();
  log.info('third');
  const msgs = chunks.map((c) =>
    c
      .split('\n')
      .filter(Boolean)
      .map((l) => (l === 'banner' ? l : JSON.parse(l).msg)),
  );
  assert.deepEqual(msgs.flat(), ['banner', 'first', 'second', 'third']);
});

test('the pretty format folds a request line into method, path, status and time', () => {
  const { chunks, target } = sink();
  const log = createLogger('info', new LogOutput('pretty', target));
  log.info(
    { req: { method: 'POST', url: '/api/stores/s/messages' }, res: { statusCode: 201 }, responseTime: 1.234 },
    'request completed',
  );
  log.warn({ store: 's' }, 'something to look at');
  assert.equal(chunks.length, 2);
  assert.match(chunks[0] ?? '', /INFO: POST \/api\/stores\/s\/messages → 201 in 1\.2 ms/);
  assert.doesNotMatch(chunks[0] ?? '', /^\{/);
  assert.match(chunks[1] ?? '', /WARN: something to look at \{"store":"s"\}/);
});

test('auto is pretty on a terminal and JSON elsewhere; an explicit format wins', () => {
  assert.equal(resolveLogFormat('auto', { isTTY: true }), 'pretty');
  assert.equal(resolveLogFormat('auto', { isTTY: false }), 'json');
  assert.equal(resolveLogFormat('json', { isTTY: true }), 'json');
  assert.equal(resolveLogFormat('pretty', {}), 'pretty');
});
