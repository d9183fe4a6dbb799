import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildServiceRequest } from '../../../src/pipeline/delivery/request.js';
import type { LeasedMessage, Parameter } from '../../../src/storage/delivery-contract.js';
import type { Mapping } from '../../../src/storage/mapping-contract.js';

const mapping = {
  id: 'map-1',
  store_id: 'store-1',
  name: 'erp.orders',
  url: 'http://127.0.0.1:1/orders',
  token: 'secret',
  options: {},
} as unknown as Mapping;

function leased(payload: string, extra: string | null = null): LeasedMessage {
  return {
    id: 'msg-2',
    store_id: 'store-1',
    message: 'order:new',
    payload,
    extra,
    parent_id: 'msg-1',
    update_url: null,
  } as unknown as LeasedMessage;
}

const param = (name: string, value: unknown): Parameter =>
  ({ name, value: JSON.stringify(value) }) as unknown as Parameter;

/** What the body must be, built the slow and obvious way. */
function expected(m: LeasedMessage, parameters: Parameter[]) {
  const payload = JSON.parse(m.payload) as Record<string, unknown>;
  payload.parameters = parameters.map((p) => ({ name: p.name, value: JSON.parse(p.value) }));
  return {
    ...(m.extra ? JSON.parse(m.extra) : {}),
    message: m.message,
    message_id: m.id,
    parent_id: m.parent_id,
    store_id: m.store_id,
    payload,
  };
}

test('the service body is the message with its parameters, whatever the payload text looks like', () => {
  const params = [param('erp.url', 'https://erp.example'), param('erp.limits', { n: 3, tags: ['a"b'] })];
  const cases: [string, string | null, Parameter[]][] = [
    ['{"order":{"id":"R1","total":12.5}}', null, params],
    ['{"order":{"id":"R1"}}', null, []],
    ['{}', null, params],
    ['{ }  \n', null, params],
    [' {"order": {"id": "R\\u00e9"}} \n', null, params],
    // a payload with its own parameters key: the hub's list replaces it (no duplicate key)
    ['{"parameters":[{"name":"x","value":1}],"order":{}}', null, params],
    ['{"order":{"parameters":"nested"}}', null, params],
    // top-level extras travel along, never over the hub's own fields
    ['{"order":{}}', '{"request_id":"abc","message":"shadow"}', params],
  ];
  for (const [payload, extra, parameters] of cases) {
    const m = leased(payload, extra);
    const req = buildServiceRequest(m, mapping, parameters, Date.now());
    const body = JSON.parse(req.body) as Record<string, unknown>;
    assert.deepEqual(body, expected(m, parameters), payload);
    assert.deepEqual(Object.keys(body).slice(-5), [
      'message',
      'message_id',
      'parent_id',
      'store_id',
      'payload',
    ]);
    assert.equal(req.headers['x-augury-token'], 'secret');
    assert.equal(req.url, mapping.url);
  }
});

test('the body keeps the payload text as received when it can', () => {
  const payload = '{"order":{"id":"R\\u00e9","lines":[1,2]}}';
  const req = buildServiceRequest(leased(payload), mapping, [param('a', 1)], Date.now());
  assert.ok(
    req.body.includes(
      '"payload":{"order":{"id":"R\\u00e9","lines":[1,2]},"parameters":[{"name":"a","value":1}]}',
    ),
  );
});
