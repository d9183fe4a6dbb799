import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  checkIdentifiers,
  compileIdentifiers,
  IdentifiersError,
} from '../../../src/pipeline/routing/identifiers.js';

const order = (number: unknown, extra: Record<string, unknown> = {}) => ({
  message: 'order:new',
  message_id: 'm1',
  payload: { order: { number, ...extra } },
});
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('checkIdentifiers', () => {
  const names = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`id${i}`, 'payload.a']));
  const cases: [string, unknown, [string, RegExp][]][] = [
    ['an empty object', {}, []],
    ['one identifier', { order_number: 'payload.order.number' }, []],
    ['a wildcard path', { skus: 'payload.order.line_items.*.sku' }, []],
    ['16 identifiers', names(16), []],
    ['a 64-char name', { ['n'.repeat(64)]: 'payload.a' }, []],
    ['a unicode name', { номер: 'payload.a' }, []],
    ['null', null, [['', /must be an object of name → path/]]],
    ['an array', ['payload.a'], [['', /must be an object/]]],
    ['a string', 'payload.a', [['', /must be an object/]]],
    ['17 identifiers', names(17), [['', /^at most 16 identifiers are allowed \(got 17\)$/]]],
    ['an empty name', { '': 'payload.a' }, [['', /^name must be 1–64 characters long$/]]],
    ['a 65-char name', { ['n'.repeat(65)]: 'payload.a' }, [['n'.repeat(65), /1–64 characters/]]],
    ['a numeric path', { order: 12 }, [['order', /^path must be a string$/]]],
    ['a null path', { order: null }, [['order', /^path must be a string$/]]],
    ['an empty path', { order: '' }, [['order', /^path is empty$/]]],
    ['an empty segment', { order: 'payload..number' }, [['order', /^empty segment at position 2$/]]],
    [
      'two bad entries',
      { a: 'ok.path', b: 'x.', c: 'y z' },
      [
        ['b', /ends with a dot/],
        ['c', /whitespace/],
      ],
    ],
  ];
  for (const [label, input, expected] of cases) {
    it(label, () => {
      const got = checkIdentifiers(input);
      assert.equal(got.length, expected.length, JSON.stringify(got));
      expected.forEach(([field, reason], i) => {
        assert.equal(got[i]?.field, field);
        assert.match(String(got[i]?.message), reason);
      });
    });
  }
});

describe('compileIdentifiers', () => {
  it('throws an IdentifiersError on invalid input', () => {
    assert.throws(
      () => compileIdentifiers({ order: 'payload..x' }),
      (error: unknown) => error instanceof IdentifiersError && error.issues[0]?.field === 'order',
    );
  });

  it('lists the names sorted', () => {
    const ids = compileIdentifiers({ shipment: 'payload.s', order: 'payload.o', Zeta: 'payload.z' });
    assert.deepEqual(ids.names, ['Zeta', 'order', 'shipment']);
    assert.ok(Object.isFrozen(ids.names));
  });

  it('hashes the canonical encoding [[name, [values]], …] with SHA-256 (stored keys depend on it)', () => {
    const ids = compileIdentifiers({
      shipment_number: 'payload.shipment.number',
      order_number: 'payload.order.number',
    });
    const key = ids.key({ payload: { order: { number: 'R1' }, shipment: { number: 'H1' } } });
    assert.equal(key, sha('[["order_number",["R1"]],["shipment_number",["H1"]]]'));
    assert.match(String(key), /^[0-9a-f]{64}$/);
  });

  it('is stable across calls and across compilations', () => {
    const a = compileIdentifiers({ order_number: 'payload.order.number' });
    const b = compileIdentifiers({ order_number: 'payload.order.number' });
    assert.equal(a.key(order('R1')), a.key(order('R1')));
    assert.equal(a.key(order('R1')), b.key(order('R1')));
  });

  it('does not depend on the key order of the identifiers object or of the message', () => {
    const ab = compileIdentifiers({ a: 'payload.x', b: 'payload.y' });
    const ba = compileIdentifiers({ b: 'payload.y', a: 'payload.x' });
    const m1 = JSON.parse('{"payload":{"x":1,"y":2},"message":"a:b"}');
    const m2 = JSON.parse('{"message":"a:b","payload":{"y":2,"x":1}}');
    assert.equal(ab.key(m1), ba.key(m2));
    const obj = compileIdentifiers({ address: 'payload.address' });
    assert.equal(
      obj.key({ payload: { address: { zip: '8001', city: 'Zürich' } } }),
      obj.key({ payload: { address: { city: 'Zürich', zip: '8001' } } }),
    );
  });

  it('treats a number and its string form as the same value', () => {
    const ids = compileIdentifiers({ order_number: 'payload.order.number' });
    assert.equal(ids.key(order(1123)), ids.key(order('1123')));
    assert.equal(ids.key(order(true)), ids.key(order('true')));
    assert.notEqual(ids.key(order(1123)), ids.key(order('1123.0')));
  });

  it('gives different keys for different values', () => {
    const ids = compileIdentifiers({ order_number: 'payload.order.number' });
    const keys = ['R1', 'R2', 'r1', 'R1 ', '', 'Zürich', 'Zu\u0308rich', '🚚', 0, 1].map((v) =>
      ids.key(order(v)),
    );
    assert.equal(new Set(keys).size, keys.length);
  });

  it('keeps value boundaries: ["ab"] and ["a","b"] differ', () => {
    const ids = compileIdentifiers({ skus: 'payload.items.*' });
    assert.notEqual(ids.key({ payload: { items: ['ab'] } }), ids.key({ payload: { items: ['a', 'b'] } }));
    assert.notEqual(ids.key({ payload: { items: ['a,b'] } }), ids.key({ payload: { items: ['a', 'b'] } }));
    assert.notEqual(ids.key({ payload: { items: ['a', 'b'] } }), ids.key({ payload: { items: ['b', 'a'] } }));
  });

  it('includes the names: configurations reading the same value under different names differ', () => {
    const byNumber = compileIdentifiers({ order_number: 'payload.order.number' });
    const byId = compileIdentifiers({ order_id: 'payload.order.number' });
    const split = compileIdentifiers({ a: 'payload.order.number', b: 'payload.order.number' });
    const keys = [byNumber.key(order('R1')), byId.key(order('R1')), split.key(order('R1'))];
    assert.equal(new Set(keys).size, 3);
    assert.ok(keys.every((k) => k !== null));
  });

  it('differs between mappings whose identifiers read different values', () => {
    const byOrder = compileIdentifiers({ order_number: 'payload.order.number' });
    const byEmail = compileIdentifiers({ email: 'payload.order.email' });
    const msg = order('R1', { email: 'a@example.com' });
    assert.notEqual(byOrder.key(msg), byEmail.key(msg));
    assert.equal(byEmail.key(msg), byEmail.key(order('R2', { email: 'a@example.com' })));
    assert.notEqual(byOrder.key(msg), byOrder.key(order('R2', { email: 'a@example.com' })));
  });

  it('returns null when a path yields nothing or only nulls', () => {
    const one = compileIdentifiers({ order_number: 'payload.order.number' });
    const two = compileIdentifiers({
      order_number: 'payload.order.number',
      shipment: 'payload.shipment.number',
    });
    const skus = compileIdentifiers({ skus: 'payload.items.*.sku' });
    const cases: [string, ReturnType<typeof compileIdentifiers>, unknown][] = [
      ['missing property', one, { payload: { order: {} } }],
      ['missing parent', one, { payload: {} }],
      ['null value', one, order(null)],
      ['one of two missing', two, order('R1')],
      ['empty array under *', skus, { payload: { items: [] } }],
      ['only null values under *', skus, { payload: { items: [{ sku: null }, {}] } }],
      ['a scalar message', one, 'text'],
      ['a null message', one, null],
      ['an inherited property', compileIdentifiers({ c: 'payload.constructor' }), { payload: {} }],
    ];
    for (const [label, ids, msg] of cases) assert.equal(ids.key(msg), null, label);
  });

  it('keeps a null among real values (as "")', () => {
    const skus = compileIdentifiers({ skus: 'payload.items.*.sku' });
    const key = skus.key({ payload: { items: [{ sku: 'A' }, { sku: null }] } });
    assert.equal(key, sha('[["skus",["A",""]]]'));
  });

  it('identifies by empty strings and "null" (they are values, not absence)', () => {
    const one = compileIdentifiers({ order_number: 'payload.order.number' });
    assert.notEqual(one.key(order('')), null);
    assert.notEqual(one.key(order('null')), null);
  });

  it('returns null for an empty identifiers object', () => {
    const none = compileIdentifiers({});
    assert.deepEqual(none.names, []);
    assert.equal(none.key(order('R1')), null);
  });

  it('handles __proto__ as an ordinary name and key', () => {
    const ids = compileIdentifiers(JSON.parse('{"__proto__":"payload.__proto__.n"}'));
    assert.deepEqual(ids.names, ['__proto__']);
    const key = ids.key(JSON.parse('{"payload":{"__proto__":{"n":7}}}'));
    assert.equal(key, sha('[["__proto__",["7"]]]'));
    assert.equal(ids.key({ payload: {} }), null);
  });
});
