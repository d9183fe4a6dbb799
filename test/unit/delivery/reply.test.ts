import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReply } from '../../../src/pipeline/delivery/reply.js';

const json = 'application/json; charset=utf-8';

test('messages array, with notification:* entries turned into notifications', () => {
  const r = parseReply(
    json,
    JSON.stringify({
      message_id: 'm1',
      messages: [
        { message: 'product:in_stock', payload: { product: { id: 1 } }, inflate: true },
        { message: 'notification:warning', payload: { subject: 'Low stock', description: 'only 2 left' } },
      ],
    }),
  );
  assert.equal(r.malformed, undefined);
  assert.deepEqual(r.messages, [
    { message: 'product:in_stock', payload: { product: { id: 1 } }, extra: { inflate: true } },
  ]);
  assert.equal(r.notifications.length, 1);
  assert.equal(r.notifications[0]!.level, 'warn');
  assert.equal(r.notifications[0]!.subject, 'Low stock');
});

test('the single-message legacy form', () => {
  const r = parseReply(
    json,
    '{"message_id":"x","message":"product:in_stock","payload":{"product":{"name":"W"}}}',
  );
  assert.deepEqual(
    r.messages.map((m) => m.message),
    ['product:in_stock'],
  );
});

test('notifications, legacy events, and a single object', () => {
  const a = parseReply(
    json,
    '{"notifications":[{"level":"error","subject":"Boom","reference_type":"order","reference_token":"R1"}]}',
  );
  assert.equal(a.notifications[0]!.level, 'error');
  assert.equal(a.notifications[0]!.reference_token, 'R1');
  const b = parseReply(json, '{"events":[{"level":"info","subject":"ok"}]}');
  assert.equal(b.notifications[0]!.subject, 'ok');
  const c = parseReply(json, '{"notifications":{"level":"weird","description":"only a description"}}');
  assert.equal(c.notifications[0]!.level, 'info');
  assert.equal(c.notifications[0]!.subject, 'only a description');
});

test('parameters as a list or an object', () => {
  assert.deepEqual(
    parseReply(json, '{"parameters":[{"name":"a.b","value":1},{"name":""},{"value":2}]}').parameters,
    [{ name: 'a.b', value: 1 }],
  );
  assert.deepEqual(parseReply(json, '{"parameters":{"since":"2026-01-01","page":2}}').parameters, [
    { name: 'since', value: '2026-01-01' },
    { name: 'page', value: 2 },
  ]);
});

test('asynchronous replies', () => {
  assert.deepEqual(parseReply(json, '{"message_id":"m","delay":120,"update_url":"/poll"}').async, {
    delaySeconds: 120,
    updateUrl: '/poll',
  });
  assert.deepEqual(parseReply(json, '{"message_id":"m","delay":"5"}').async, {
    delaySeconds: 5,
    updateUrl: undefined,
  });
  assert.equal(parseReply(json, '{"message_id":"m"}').async, undefined);
  // bounded: a second at least, a day at most; an empty string is no delay
  assert.equal(parseReply(json, '{"delay":0}').async?.delaySeconds, 1);
  assert.equal(parseReply(json, '{"delay":1e20}').async?.delaySeconds, 86_400);
  assert.equal(parseReply(json, '{"delay":""}').async, undefined);
});

test('bad entries in messages are kept as invalid, never dropped', () => {
  const r = parseReply(
    json,
    '{"messages":[1,{"message":"Bad Type","payload":{}},{"message":"a:b","payload":[1]}]}',
  );
  assert.equal(r.messages.length, 3);
  assert.ok(r.messages.every((m) => m.invalid));
});

test('a body announced as JSON that is not JSON is malformed; plain text is fine', () => {
  assert.match(parseReply(json, '<html>oops</html>').malformed ?? '', /announced JSON/);
  const plain = parseReply('text/plain', 'OK');
  assert.equal(plain.malformed, undefined);
  assert.equal(plain.json, undefined);
  assert.equal(parseReply(json, '').malformed, undefined);
  assert.equal(parseReply(json, '[1,2]').json, undefined);
});

test('a reply nested too deeply or with a number too large is malformed, and nothing of it is taken', () => {
  const deep = parseReply(json, `{"parameters":[{"name":"p","value":${'['.repeat(300)}${']'.repeat(300)}}]}`);
  assert.match(
    deep.malformed ?? '',
    /cannot keep: \/parameters\/0\/value(\/0)+ nests deeper than 256 levels/,
  );
  assert.deepEqual(deep.parameters, []);
  const huge = parseReply(json, '{"messages":[{"message":"stock:change","payload":{"quantity":1e400}}]}');
  assert.match(huge.malformed ?? '', /\/messages\/0\/payload\/quantity is a number too large/);
  assert.deepEqual(huge.messages, []);
});

test('messages given as one object instead of a list is that one message; anything else is kept as invalid', () => {
  const one = parseReply(json, '{"messages":{"message":"custom:obj","payload":{"a":1}}}');
  assert.deepEqual(
    one.messages.map((m) => [m.message, m.invalid]),
    [['custom:obj', undefined]],
  );
  const odd = parseReply(json, '{"messages":"custom:obj"}');
  assert.equal(odd.messages.length, 1);
  assert.ok(odd.messages[0]!.invalid);
});

test('a reply starting with a byte order mark is read like any other', () => {
  const r = parseReply(json, '\ufeff{"messages":[{"message":"acme:bom:one","payload":{}}]}');
  assert.equal(r.malformed, undefined);
  assert.deepEqual(
    r.messages.map((m) => m.message),
    ['acme:bom:one'],
  );
});

test('an empty messages value is none; more than 10,000 messages make the reply malformed', () => {
  for (const none of ['{}', '""', 'false', '0', 'null'])
    assert.deepEqual(parseReply(json, `{"messages":${none}}`).messages, [], none);
  const many = JSON.stringify({
    messages: Array.from({ length: 10_001 }, () => ({ message: 'a:b', payload: {} })),
  });
  const r = parseReply(json, many);
  assert.match(r.malformed ?? '', /reply carries 10001 messages; the hub takes at most 10000/);
  assert.deepEqual(r.messages, []);
});
