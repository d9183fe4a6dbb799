import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { type Exchange, post } from '../../../src/pipeline/delivery/http.js';
import { REPLY_BYTES, RESULT_BYTES, settle } from '../../../src/pipeline/delivery/outcome.js';
import type { LeasedMessage } from '../../../src/storage/delivery-contract.js';
import type { Mapping } from '../../../src/storage/mapping-contract.js';

/** A copy and its mapping, as the engine settles a try (outcome.ts) */
const mapping = {
  options: { retries_allowed: true, max_attempts: null, max_age: 7 * 86_400, timeout_ms: 5000 },
} as unknown as Mapping;
const leased = {
  id: 'msg-1',
  store_id: 'store-1',
  lease_owner: 'lease-1',
  attempts: 0,
  created_at: Date.now(),
} as unknown as LeasedMessage;

/** The service-request POST on a real socket: answers, long replies, timeouts, aborts. */
let url = '';
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_q, res) => res.end('{}');
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    body += c;
  });
  req.on('end', () => handler(req, res, body));
});
const agent = new Agent({ connections: 4 });

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const request = (path = '/svc?x=1') => ({
  url: `${url}${path}`,
  headers: { 'content-type': 'application/json', 'x-hub-token': 't' },
  body: '{"message":"order:new"}',
});

test('an answer comes back with its status, headers and body; the request arrives whole', async () => {
  let seen: { url?: string; token?: string; body?: string } = {};
  handler = (req, res, body) => {
    seen = { url: req.url, token: req.headers['x-hub-token'] as string, body };
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '30' });
    res.end('{"summary":"busy"}');
  };
  const inFlight = new Set<Exchange>();
  const r = await post(agent, request(), 5000, inFlight);
  assert.deepEqual(seen, { url: '/svc?x=1', token: 't', body: '{"message":"order:new"}' });
  assert.equal(r.status, 503);
  assert.equal(r.contentType, 'application/json');
  assert.equal(r.retryAfter, '30');
  assert.equal(r.body, '{"summary":"busy"}');
  assert.equal(r.error, undefined);
  assert.ok(r.durationMs >= 0 && r.startedAt <= Date.now());
  assert.equal(inFlight.size, 0);
});

test('a JSON reply longer than the result kept is read whole, to take its messages in', async () => {
  const reply = JSON.stringify({
    messages: [{ message: 'acme:big:one', payload: { text: 'z'.repeat(RESULT_BYTES * 2) } }],
  });
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(reply);
  };
  const r = await post(agent, request(), 5000, new Set());
  assert.equal(r.status, 200);
  assert.equal(r.body, reply);
  assert.equal(r.bodyCut, undefined);
});

test('a reply longer than the hub reads is cut after REPLY_BYTES, and a JSON one fails saying so', async () => {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"messages":"${'x'.repeat(REPLY_BYTES * 2)}"}`);
  };
  const r = await post(agent, request(), 5000, new Set());
  assert.equal(r.status, 200);
  assert.equal(r.bodyCut, true);
  assert.ok(r.body!.length > REPLY_BYTES && r.body!.length < REPLY_BYTES * 2, `${r.body!.length}`);
  assert.equal(r.error, undefined);
  const s = settle(leased, mapping, { ...r, url: 'u', startedAt: 0, durationMs: 1 }, Date.now(), 0.5);
  assert.equal(s.outcome.kind, 'failing');
  assert.match(s.attempt?.error ?? '', /reply longer than 8 MiB: the hub reads no further/);
  assert.ok((s.result?.length ?? 0) <= RESULT_BYTES + 1, 'only the result kept is stored');
});

test('a long reply on a connection the endpoint closes is cut the same way', async () => {
  handler = (_req, res) => {
    // one write that both crosses the limit and completes the message
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end('y'.repeat(REPLY_BYTES + 10));
  };
  for (let i = 0; i < 3; i++) {
    const r = await post(agent, request(), 5000, new Set());
    assert.equal(r.status, 200);
    assert.ok(r.body!.length > REPLY_BYTES, `${r.body!.length}`);
  }
});

test('the timeout bounds the whole exchange, a body trickling in included', async () => {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // a byte every 50 ms: no single gap reaches the timeout, the whole reply does
    const tick = setInterval(() => res.write(' '), 50);
    res.on('close', () => clearInterval(tick));
  };
  const started = Date.now();
  const r = await post(agent, request(), 300, new Set());
  assert.equal(r.error, 'timed out after 300 ms');
  assert.ok(Date.now() - started < 2000);
});

test('abort ends an exchange in flight with an error, and a refused connection is an error', async () => {
  handler = () => {}; // never answers
  const inFlight = new Set<Exchange>();
  const pending = post(agent, request(), 10_000, inFlight);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(inFlight.size, 1);
  for (const e of inFlight) e.abort(new DOMException('shutting down', 'AbortError'));
  const r = await pending;
  assert.equal(r.error, 'AbortError: shutting down');
  assert.equal(inFlight.size, 0);

  const refused = await post(agent, { ...request(), url: 'http://127.0.0.1:1/x' }, 1000, new Set());
  assert.match(refused.error!, /ECONNREFUSED/);
});
