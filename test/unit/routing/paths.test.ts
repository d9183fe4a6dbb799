import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatPath,
  type Path,
  PathError,
  parsePath,
  valuesAt,
  WILDCARD,
} from '../../../src/pipeline/routing/paths.js';

// An explicit annotation keeps the `unique symbol` type (a plain const would widen to symbol).
const W: typeof WILDCARD = WILDCARD;

const message = {
  message: 'order:new',
  message_id: 'm1',
  payload: {
    order: {
      status: 'complete',
      tax: 3,
      note: null,
      tags: ['a', 'b'],
      list: [],
      meta: {},
      shipments: [
        { number: 'H1', items: [{ sku: 'ROR-0001' }, { sku: 'ROR-0002' }] },
        { number: 'H2', items: [{ sku: 'ROR-0003' }] },
      ],
      totals: { item: 10, tax: 1.5, ship: '2' },
      mixed: [{ v: 1 }, null, 3, { w: 2 }, { v: null }, 'v'],
      nested: [[1, 2], [3], { a: 4 }, 'x', null],
      ordering: { b: 1, 2: 'two', a: 3, 1: 'one' },
      Straße: 'Zürich',
      '🚚': { ключ: 'значение' },
      '@type': 'x',
      $ref: 'y',
      'a-b': 'z',
      'a*b': 'literal star',
    },
  },
};

describe('parsePath: valid paths', () => {
  const key128 = 'k'.repeat(128);
  const path512 = ['a'.repeat(128), 'a'.repeat(128), 'a'.repeat(128), 'a'.repeat(125)].join('.');
  const seg32 = Array.from({ length: 32 }, (_, i) => `s${i}`);
  const cases: [string, Path][] = [
    ['payload', ['payload']],
    ['payload.order.status', ['payload', 'order', 'status']],
    ['*', [W]],
    ['payload.*.sku', ['payload', W, 'sku']],
    ['payload.order.shipments.*.items.*.sku', ['payload', 'order', 'shipments', W, 'items', W, 'sku']],
    ['a.*.*.b', ['a', W, W, 'b']],
    ['items.0.sku', ['items', '0', 'sku']],
    ['Straße.ключ.🚚', ['Straße', 'ключ', '🚚']],
    ['@type.$ref.a-b.a_b.#x', ['@type', '$ref', 'a-b', 'a_b', '#x']],
    ['a*b.**', ['a*b', '**']],
    ['__proto__.constructor.prototype', ['__proto__', 'constructor', 'prototype']],
    ['👨‍👩‍👧', ['👨‍👩‍👧']],
    [key128, [key128]],
    ['🚚'.repeat(128), ['🚚'.repeat(128)]],
    [path512, path512.split('.')],
    [seg32.join('.'), seg32],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`, () => {
      const path = parsePath(text);
      assert.deepEqual(path, expected);
      assert.ok(Object.isFrozen(path));
      assert.equal(formatPath(path), text);
    });
  }
});

describe('parsePath: invalid paths', () => {
  const cases: [unknown, RegExp][] = [
    ['', /^path is empty$/],
    ['.', /starts with a dot/],
    ['.a', /starts with a dot/],
    ['a.', /ends with a dot/],
    ['a..b', /^empty segment at position 2$/],
    ['a.b..c', /^empty segment at position 3$/],
    ['a b', /segment at position 1 contains whitespace or a control character/],
    ['a.b\tc', /segment at position 2 contains whitespace/],
    ['a.\u0000', /position 2 contains whitespace or a control character/],
    ['a.\u007f', /position 2 contains/],
    ['a.b\u00a0', /position 2 contains whitespace/],
    ['a\u2028b', /position 1 contains whitespace/],
    ['a.b\n', /position 2 contains/],
    [Array.from({ length: 33 }, () => 'a').join('.'), /^path has 33 segments, the maximum is 32$/],
    [`x.${'k'.repeat(129)}`, /^segment at position 2 is 129 characters long, the maximum is 128$/],
    [`${'🚚'.repeat(129)}`, /is 129 characters long/],
    [
      ['a'.repeat(128), 'a'.repeat(128), 'a'.repeat(128), 'a'.repeat(126)].join('.'),
      /^path is 513 characters/,
    ],
    [42, /^path must be a string$/],
    [null, /^path must be a string$/],
  ];
  for (const [text, reason] of cases) {
    it(`rejects ${JSON.stringify(text)?.slice(0, 40)}`, () => {
      assert.throws(
        () => parsePath(text as string),
        (error: unknown) =>
          error instanceof PathError && error instanceof Error && reason.test(error.message),
      );
    });
  }
});

describe('valuesAt', () => {
  const items = message.payload.order.shipments.flatMap((s) => s.items);
  const cases: [string, unknown[]][] = [
    ['message', ['order:new']],
    ['payload.order.status', ['complete']],
    ['payload.order.tax', [3]],
    ['payload.order.missing', []],
    ['payload.missing.deeper.still', []],
    ['payload.order.note', [null]],
    ['payload.order.note.x', []],
    ['payload.order.note.*', []],
    ['payload.order.status.length', []],
    ['payload.order.status.0', []],
    ['payload.order.status.*', []],
    ['payload.order.tax.toFixed', []],
    ['payload.order.tags.0', ['a']],
    ['payload.order.tags.1', ['b']],
    ['payload.order.tags.2', []],
    ['payload.order.tags.01', []],
    ['payload.order.tags.-1', []],
    ['payload.order.tags.1e0', []],
    ['payload.order.tags.length', []],
    ['payload.order.tags.*', ['a', 'b']],
    ['payload.order.list', [[]]],
    ['payload.order.list.*', []],
    ['payload.order.list.0', []],
    ['payload.order.meta', [{}]],
    ['payload.order.meta.*', []],
    ['payload.order.shipments.0.number', ['H1']],
    ['payload.order.shipments.1.items.0.sku', ['ROR-0003']],
    ['payload.order.shipments.5.number', []],
    ['payload.order.shipments.*.number', ['H1', 'H2']],
    ['payload.order.shipments.*.items.*.sku', ['ROR-0001', 'ROR-0002', 'ROR-0003']],
    ['payload.order.shipments.*.items.*', items],
    ['payload.order.shipments.*.items.1.sku', ['ROR-0002']],
    ['payload.order.shipments.*.missing.*.sku', []],
    ['payload.order.totals.*', [10, 1.5, '2']],
    ['payload.order.mixed.*.v', [1, null]],
    ['payload.order.mixed.*', [{ v: 1 }, null, 3, { w: 2 }, { v: null }, 'v']],
    ['payload.order.nested.*.*', [1, 2, 3, 4]],
    ['payload.order.nested.*.0', [1, 3]],
    ['payload.order.ordering.*', ['one', 'two', 1, 3]],
    ['*.order.status', ['complete']],
    ['*.*.tax', [3]],
    ['payload.order.Straße', ['Zürich']],
    ['payload.order.🚚.ключ', ['значение']],
    ['payload.order.@type', ['x']],
    ['payload.order.$ref', ['y']],
    ['payload.order.a-b', ['z']],
    ['payload.order.a*b', ['literal star']],
    // The prototype is never walked: these exist on every object or array, but not as own data.
    ['payload.__proto__', []],
    ['payload.constructor', []],
    ['payload.constructor.name', []],
    ['payload.order.toString', []],
    ['payload.order.hasOwnProperty', []],
    ['payload.order.tags.constructor', []],
    ['payload.order.tags.map', []],
    ['payload.order.__proto__.polluted', []],
  ];
  for (const [text, expected] of cases) {
    it(`${text} → ${JSON.stringify(expected).slice(0, 60)}`, () => {
      assert.deepEqual(valuesAt(message, parsePath(text)), expected);
    });
  }

  it('reads an own __proto__ or constructor property (as JSON.parse creates them)', () => {
    const parsed = JSON.parse(
      '{"payload":{"__proto__":{"admin":true},"constructor":"c","list":{"__proto__":1}}}',
    );
    assert.deepEqual(valuesAt(parsed, parsePath('payload.__proto__.admin')), [true]);
    assert.deepEqual(valuesAt(parsed, parsePath('payload.constructor')), ['c']);
    assert.deepEqual(valuesAt(parsed, parsePath('payload.list.*')), [1]);
    assert.deepEqual(valuesAt(parsed, parsePath('payload.__proto__.toString')), []);
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype pollution');
  });

  it('works on null-prototype objects', () => {
    const root = Object.assign(Object.create(null) as Record<string, unknown>, { a: { b: 1 } });
    assert.deepEqual(valuesAt(root, parsePath('a.b')), [1]);
    assert.deepEqual(valuesAt(root, parsePath('*.b')), [1]);
    assert.deepEqual(valuesAt(root, parsePath('toString')), []);
  });

  it('treats undefined (which JSON cannot carry) as missing', () => {
    assert.deepEqual(valuesAt({ a: undefined }, parsePath('a')), []);
    assert.deepEqual(valuesAt({ a: [1, undefined, 2] }, parsePath('a.*')), [1, 2]);
    assert.deepEqual(valuesAt({ a: [1, undefined] }, parsePath('a.1')), []);
    assert.deepEqual(valuesAt({ a: { x: undefined, y: 0 } }, parsePath('a.*')), [0]);
  });

  it('handles scalar, null and array roots', () => {
    assert.deepEqual(valuesAt('text', parsePath('length')), []);
    assert.deepEqual(valuesAt(null, parsePath('a')), []);
    assert.deepEqual(valuesAt(undefined, parsePath('*')), []);
    assert.deepEqual(valuesAt(7, parsePath('*')), []);
    assert.deepEqual(valuesAt([{ a: 1 }, { a: 2 }], parsePath('1.a')), [2]);
    assert.deepEqual(valuesAt([{ a: 1 }, { a: 2 }], parsePath('*.a')), [1, 2]);
  });

  it('walks a 32-segment path', () => {
    const keys = Array.from({ length: 32 }, (_, i) => `k${i}`);
    let root: unknown = 'leaf';
    for (const key of [...keys].reverse()) root = { [key]: root };
    assert.deepEqual(valuesAt(root, parsePath(keys.join('.'))), ['leaf']);
    keys[31] = '*';
    assert.deepEqual(valuesAt(root, parsePath(keys.join('.'))), ['leaf']);
  });

  it('fans out over every combination of repeated wildcards', () => {
    const grid = {
      rows: Array.from({ length: 20 }, (_, r) => ({
        cells: Array.from({ length: 30 }, (_, c) => r * 30 + c),
      })),
    };
    const values = valuesAt(grid, parsePath('rows.*.cells.*'));
    assert.equal(values.length, 600);
    assert.deepEqual(
      values,
      Array.from({ length: 600 }, (_, i) => i),
    );
  });
});
