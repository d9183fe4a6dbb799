import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyFilters,
  checkFilter,
  compileFilter,
  type FieldIssue,
  type FilterSpec,
  FilterSpecError,
  OPERATORS,
  type Operator,
  stringifyValue,
  toNumber,
} from '../../../src/pipeline/routing/filters.js';

const message = {
  message: 'order:new',
  message_id: 'm1',
  payload: {
    order: {
      number: 'R123',
      status: 'complete',
      total: '15.99',
      tax: 3,
      paid: true,
      note: null,
      blank: '',
      nullish: 'null',
      city: 'Zürich',
      label: '🚚 shipped 📦',
      tags: ['a', 'b'],
      list: [],
      meta: {},
      shipments: [
        {
          number: 'H1',
          items: [
            { sku: 'ROR-0001', qty: 1 },
            { sku: 'ROR-0002', qty: 2 },
          ],
        },
        { number: 'H2', items: [{ sku: 'ROR-0003', qty: '3' }] },
      ],
      totals: { item: 10, tax: 1.5, ship: '2' },
      addresses: { bill: { city: 'Zürich' }, ship: { city: 'Genève' } },
    },
  },
};

const run = (spec: FilterSpec, msg: unknown = message) => applyFilters([compileFilter(spec)], msg).pass;

describe('stringifyValue', () => {
  const cases: [unknown, string][] = [
    ['text', 'text'],
    ['', ''],
    ['null', 'null'],
    [null, ''],
    [undefined, ''],
    [0, '0'],
    [-1.5, '-1.5'],
    [1.5, '1.5'],
    [1e21, '1e+21'],
    [true, 'true'],
    [false, 'false'],
    [[], '[]'],
    [{}, '{}'],
    [['a', 1, null], '["a",1,null]'],
    [{ b: 1, a: { d: 2, c: [{ f: 1, e: 2 }] } }, '{"a":{"c":[{"e":2,"f":1}],"d":2},"b":1}'],
    [JSON.parse('{"z":1,"__proto__":2}'), '{"__proto__":2,"z":1}'],
    ['Zürich 🚚', 'Zürich 🚚'],
  ];
  for (const [value, expected] of cases) {
    it(`${String(JSON.stringify(value))} → ${JSON.stringify(expected)}`, () => {
      assert.equal(stringifyValue(value), expected);
    });
  }
});

describe('toNumber (the gt/lt rule)', () => {
  const cases: [unknown, number | undefined][] = [
    [15.99, 15.99],
    [0, 0],
    [-3, -3],
    ['15.99', 15.99],
    [' 15.99 ', 15.99],
    ['\t-2\n', -2],
    ['+3', 3],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1.5E-2', 0.015],
    ['-0', -0],
    ['', undefined],
    ['  ', undefined],
    ['abc', undefined],
    ['12abc', undefined],
    ['0x10', undefined],
    ['1_000', undefined],
    ['1,5', undefined],
    ['Infinity', undefined],
    ['NaN', undefined],
    ['1e999', undefined],
    ['.', undefined],
    ['e5', undefined],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    [true, undefined],
    [false, undefined],
    [null, undefined],
    [[1], undefined],
    [{}, undefined],
  ];
  for (const [value, expected] of cases) {
    it(`${String(JSON.stringify(value))} → ${expected}`, () => assert.equal(toNumber(value), expected));
  }
});

// [target values, filter value, expected with match_rule all, expected with match_rule any]
type Row = [unknown[], unknown, boolean, boolean];
const NFD = 'Zu\u0308rich';

const table: Record<Operator, Row[]> = {
  eq: [
    [['complete'], 'complete', true, true],
    [['Complete'], 'complete', false, false],
    [['complete', 'cart'], 'complete', false, true],
    [['complete', 'complete'], 'complete', true, true],
    [[], 'complete', false, false],
    [[null], '', true, true],
    [[null], 'null', false, false],
    [['null'], 'null', true, true],
    [[''], '', true, true],
    [[15.99], '15.99', true, true],
    [['15.99'], 15.99, true, true],
    [[1.5], '1.50', false, false],
    [[1123], 1123, true, true],
    [[true], 'true', true, true],
    [['true'], true, true, true],
    [[false], 'false', true, true],
    [[['a', 'b']], '["a","b"]', true, true],
    [[{ b: 1, a: 2 }], '{"a":2,"b":1}', true, true],
    [['Zürich'], 'Zürich', true, true],
    [[NFD], 'Zürich', false, false],
    [['🚚'], '🚚', true, true],
  ],
  neq: [
    [['cart'], 'complete', true, true],
    [['complete'], 'complete', false, false],
    [['complete', 'cart'], 'complete', false, true],
    [[], 'complete', false, false],
    [[null], '', false, false],
    [[null], 'x', true, true],
    [[15], '15', false, false],
    [['Zürich'], NFD, true, true],
  ],
  gt: [
    [[15.99], 10, true, true],
    [['15.99'], 10, true, true],
    [[' 15.99 '], '10', true, true],
    [['1.5e2'], 100, true, true],
    [[10], 10, false, false],
    [['10'], 10, false, false],
    [[9], 10, false, false],
    [[11, 5], 10, false, true],
    [[11, 'abc'], 10, false, true],
    [[101], '100', true, true],
    [['-5'], -10, true, true],
    [[0.1], '.05', true, true],
    [['abc'], 10, false, false],
    [[''], -1, false, false],
    [[null], -1, false, false],
    [['null'], -1, false, false],
    [[true], 0, false, false],
    [[[11]], 10, false, false],
    [[{}], 10, false, false],
    [['0x10'], 10, false, false],
    [['1e999'], 10, false, false],
    [[], 10, false, false],
  ],
  lt: [
    [[9.99], 10, true, true],
    [['-1'], 0, true, true],
    [['.5'], 1, true, true],
    [['5.'], 10, true, true],
    [['+3'], '4', true, true],
    [[10], 10, false, false],
    [[5, 20], 10, false, true],
    [['abc'], 10, false, false],
    [[''], 10, false, false],
    [[null], 10, false, false],
    [[false], 10, false, false],
    [['1,5'], 10, false, false],
    [['Infinity'], 10, false, false],
    [['NaN'], 10, false, false],
    [[], 10, false, false],
  ],
  begin: [
    [['R123'], 'R', true, true],
    [['r123'], 'R', false, false],
    [['XR'], 'R', false, false],
    [['R1', 'X1'], 'R', false, true],
    [[], 'R', false, false],
    [[123], 12, true, true],
    [[null], '', true, true],
    [[null], 'n', false, false],
    [['Zürich'], 'Zü', true, true],
    [[NFD], 'Zü', false, false],
    [['🚚 shipped'], '🚚', true, true],
    [[['a']], '["', true, true],
    [[true], 'tr', true, true],
  ],
  contains: [
    [['xRORx'], 'ROR', true, true],
    [['ror'], 'ROR', false, false],
    [['ROR-1', 'X'], 'ROR', false, true],
    [[], 'ROR', false, false],
    [[{ sku: 'ROR' }], 'ROR', true, true],
    [[3.14], '.1', true, true],
    [['Zürich'], 'üri', true, true],
    [['a 🚚 b'], '🚚', true, true],
    [['anything'], '', true, true],
    [[null], 'null', false, false],
  ],
  end: [
    [['ROR-0001'], '01', true, true],
    [['ROR-0001', 'ROR-0002'], '01', false, true],
    [['ROR-0001'], '0', false, false],
    [['Zürich'], 'ich', true, true],
    [['Genève'], 'ève', true, true],
    [['paid 📦'], '📦', true, true],
    [[true], 'ue', true, true],
    [[null], '', true, true],
    [[10], 0, true, true],
    [[], '01', false, false],
  ],
  present: [
    [['x'], undefined, true, true],
    [[null], undefined, false, false],
    [[''], undefined, false, false],
    [['null'], undefined, false, false],
    [['NULL'], undefined, true, true],
    [[' '], undefined, true, true],
    [[0], undefined, true, true],
    [[false], undefined, true, true],
    [[[]], undefined, true, true],
    [[{}], undefined, true, true],
    [['x', null], undefined, false, true],
    [[null, ''], undefined, false, false],
    [[], undefined, false, false],
  ],
  empty: [
    [[null], undefined, true, true],
    [[''], undefined, true, true],
    [['null'], undefined, true, true],
    [[null, '', 'null'], undefined, true, true],
    [['x'], undefined, false, false],
    [[0], undefined, false, false],
    [[false], undefined, false, false],
    [[[]], undefined, false, false],
    [[{}], undefined, false, false],
    [['x', null], undefined, false, true],
    [[], undefined, true, true],
  ],
  match: [
    [['R123'], '^R\\d+$', true, true],
    [['r123'], '^R\\d+$', false, false],
    [['xR1'], '^R\\d+$', false, false],
    [['xR1y'], 'R\\d', true, true],
    [['R1', 'X'], '^R', false, true],
    [[], '^R', false, false],
    [[], '.*', false, false],
    [['R123'], '/^r\\d+$/i', true, true],
    [[123], '^\\d+$', true, true],
    [[null], '^$', true, true],
    [[true], '^true$', true, true],
    [['a\nb'], '/^b$/m', true, true],
    [['a\nb'], '^b$', false, false],
    [['a\nb'], '/a.b/s', true, true],
    [['a\nb'], 'a.b', false, false],
    [['A\nB'], '/^a.b$/is', true, true],
    [['ZÜRICH'], '/zürich/i', true, true],
    [['🚚'], '^.$', true, true],
    [['Zürich'], '^\\p{Lu}\\p{Ll}+$', true, true],
    [['/api/v1'], '/api/', true, true],
    [['x/y'], '/', true, true],
    [['anything'], '//', true, true],
    [[{ a: 1 }], '"a":1', true, true],
    [['2024-01-31'], 2024, true, true],
  ],
};

describe('operators: target values × match rules', () => {
  for (const operator of OPERATORS) {
    describe(operator, () => {
      for (const [values, value, all, any] of table[operator]) {
        const label = `${JSON.stringify(values)} ${operator} ${String(JSON.stringify(value))}`;
        it(`${label} → all:${all} any:${any}`, () => {
          const base = { path: 'payload.x', operator, ...(value === undefined ? {} : { value }) };
          assert.equal(compileFilter(base).test(values), all, 'default rule is all');
          assert.equal(compileFilter({ ...base, match_rule: 'all' }).test(values), all, 'all');
          assert.equal(compileFilter({ ...base, match_rule: 'any' }).test(values), any, 'any');
        });
      }
    });
  }
});

describe('a path that yields nothing passes only empty, under both rules', () => {
  const values: Record<Operator, unknown> = {
    eq: 'x',
    neq: 'x',
    gt: 0,
    lt: 0,
    begin: '',
    contains: '',
    end: '',
    present: undefined,
    empty: undefined,
    match: '.*',
  };
  const paths = [
    'payload.order.missing',
    'payload.order.list.*',
    'payload.order.meta.*',
    'payload.order.status.*',
    'payload.order.note.x',
    'payload.order.tags.length',
    'payload.order.tags.9',
    'payload.__proto__',
    'payload.order.constructor',
  ];
  for (const operator of OPERATORS) {
    for (const match_rule of ['all', 'any'] as const) {
      it(`${operator} / ${match_rule}`, () => {
        for (const path of paths) {
          const spec = { path, operator, value: values[operator], match_rule };
          assert.equal(run(spec), operator === 'empty', path);
        }
      });
    }
  }
});

describe('filters on message paths', () => {
  // [path, operator, value, match_rule, expected]
  const cases: [string, Operator, unknown, 'all' | 'any' | undefined, boolean][] = [
    ['message', 'eq', 'order:new', undefined, true],
    ['message', 'begin', 'order:', undefined, true],
    ['payload.order.status', 'eq', 'complete', undefined, true],
    ['payload.order.status', 'neq', 'complete', undefined, false],
    ['payload.order.total', 'gt', 10, undefined, true],
    ['payload.order.total', 'lt', '15.99', undefined, false],
    ['payload.order.tax', 'eq', '3', undefined, true],
    ['payload.order.paid', 'eq', true, undefined, true],
    ['payload.order.paid', 'present', undefined, undefined, true],
    ['payload.order.note', 'present', undefined, undefined, false],
    ['payload.order.note', 'empty', undefined, undefined, true],
    ['payload.order.note', 'eq', '', undefined, true],
    ['payload.order.blank', 'empty', undefined, undefined, true],
    ['payload.order.nullish', 'empty', undefined, undefined, true],
    ['payload.order.list', 'present', undefined, undefined, true],
    ['payload.order.meta', 'present', undefined, undefined, true],
    ['payload.order.tags', 'eq', '["a","b"]', undefined, true],
    ['payload.order.tags.*', 'eq', 'a', 'all', false],
    ['payload.order.tags.*', 'eq', 'a', 'any', true],
    ['payload.order.tags.1', 'eq', 'b', undefined, true],
    ['payload.order.shipments.0.number', 'eq', 'H1', undefined, true],
    ['payload.order.shipments.1.items.0.sku', 'eq', 'ROR-0003', undefined, true],
    ['payload.order.shipments.*.number', 'neq', 'H3', 'all', true],
    ['payload.order.shipments.*.items.*.sku', 'eq', 'ROR-0001', 'any', true],
    ['payload.order.shipments.*.items.*.sku', 'eq', 'ROR-0001', 'all', false],
    ['payload.order.shipments.*.items.*.sku', 'begin', 'ROR-', 'all', true],
    ['payload.order.shipments.*.items.*.sku', 'end', '3', 'any', true],
    ['payload.order.shipments.*.items.*.sku', 'match', '^ROR-\\d{4}$', 'all', true],
    ['payload.order.shipments.*.items.*.qty', 'gt', 0, 'all', true],
    ['payload.order.shipments.*.items.*.qty', 'lt', 3, 'all', false],
    ['payload.order.shipments.*.items.*.qty', 'lt', 3, 'any', true],
    ['payload.order.shipments.*.items.*.qty', 'gt', '2.5', 'any', true],
    ['payload.order.totals.*', 'gt', 1, 'all', true],
    ['payload.order.totals.*', 'gt', 2, 'all', false],
    ['payload.order.totals.*', 'gt', 2, 'any', true],
    ['payload.order.totals.tax', 'gt', '1', undefined, true],
    ['payload.order.addresses.*.city', 'eq', 'Zürich', 'any', true],
    ['payload.order.addresses.*.city', 'eq', 'Zürich', 'all', false],
    ['payload.order.addresses.*.city', 'end', 'e', 'any', true],
    ['payload.order.addresses.*.city', 'contains', 'ü', 'all', false],
    ['payload.order.addresses.*.city', 'present', undefined, 'all', true],
    ['payload.order.city', 'begin', 'Zü', undefined, true],
    ['payload.order.label', 'begin', '🚚', undefined, true],
    ['payload.order.label', 'end', '📦', undefined, true],
    ['payload.order.label', 'match', '^🚚.*📦$', undefined, true],
    ['*.order.number', 'eq', 'R123', 'all', true],
    ['payload.*.*', 'present', undefined, 'any', true],
  ];
  for (const [path, operator, value, match_rule, expected] of cases) {
    const text = `${path} ${operator} ${String(JSON.stringify(value))} (${match_rule ?? 'default'})`;
    it(`${text} → ${expected}`, () => {
      const spec: FilterSpec = { path, operator, ...(value === undefined ? {} : { value }) };
      if (match_rule) spec.match_rule = match_rule;
      assert.deepEqual(checkFilter(spec), []);
      assert.equal(run(spec), expected);
    });
  }
});

describe('unicode keys and __proto__ keys', () => {
  const parsed = JSON.parse(
    '{"message":"x:y","payload":{"Straße":"Zürich","🚚":{"ключ":"значение"},' +
      '"__proto__":{"admin":"yes"},"constructor":{"name":"c"}}}',
  );
  const cases: [FilterSpec, boolean][] = [
    [{ path: 'payload.Straße', operator: 'eq', value: 'Zürich' }, true],
    [{ path: 'payload.🚚.ключ', operator: 'begin', value: 'зна' }, true],
    [{ path: 'payload.🚚.ключ', operator: 'end', value: 'ние' }, true],
    [{ path: 'payload.*.ключ', operator: 'present' }, true],
    [{ path: 'payload.__proto__.admin', operator: 'eq', value: 'yes' }, true],
    [{ path: 'payload.constructor.name', operator: 'eq', value: 'c' }, true],
    [{ path: 'payload.__proto__.toString', operator: 'empty' }, true],
    [{ path: 'payload.Straße.length', operator: 'empty' }, true],
  ];
  for (const [spec, expected] of cases) {
    it(`${spec.path} ${spec.operator} → ${expected}`, () => assert.equal(run(spec, parsed), expected));
  }
  it('never reads the prototype of an ordinary message', () => {
    assert.equal(run({ path: 'payload.order.constructor.name', operator: 'eq', value: 'Object' }), false);
    assert.equal(run({ path: 'payload.order.__proto__', operator: 'present' }), false);
    assert.equal(run({ path: 'payload.order.tags.length', operator: 'gt', value: 0 }), false);
  });
});

describe('gt/lt on hostile strings', () => {
  it('reads a long run of digits followed by junk in linear time', () => {
    const junk = `${'1'.repeat(200_000)}x`;
    assert.equal(toNumber(junk), undefined);
    assert.equal(toNumber(`${' '.repeat(200_000)}1${' '.repeat(200_000)}x`), undefined);
    assert.equal(compileFilter({ path: 'p', operator: 'gt', value: 0 }).test([junk]), false);
  });
});

describe('match: linear-time regular expressions', () => {
  const hostile = `${'a'.repeat(50_000)}b`;
  for (const pattern of ['(a+)+$', '(a|aa)+$', '(a|a)*c', '(.*a){20}$', '/(A+)+$/i']) {
    it(`${pattern} against 50,000 "a"s + "b" completes`, () => {
      const filter = compileFilter({ path: 'payload.s', operator: 'match', value: pattern });
      assert.equal(filter.test([hostile]), false);
      assert.equal(filter.test([hostile, hostile]), false);
    });
  }
  it('still matches where it should', () => {
    assert.equal(compileFilter({ path: 'p', operator: 'match', value: '(a+)+b$' }).test([hostile]), true);
  });
});

type Expected = [string, RegExp][];
const issues = (input: unknown) => checkFilter(input).map((i: FieldIssue) => [i.field, i.message]);

describe('checkFilter', () => {
  const ok = { path: 'payload.order.status', operator: 'eq', value: 'complete' };
  const cases: [string, unknown, Expected][] = [
    ['a valid filter', ok, []],
    ['null', null, [['', /must be an object/]]],
    ['a string', 'eq', [['', /must be an object/]]],
    ['an array', [ok], [['', /must be an object/]]],
    [
      'an empty object',
      {},
      [
        ['path', /is required/],
        ['operator', /is required/],
      ],
    ],
    ['a missing path', { operator: 'eq', value: 'x' }, [['path', /^is required$/]]],
    ['a numeric path', { ...ok, path: 3 }, [['path', /^must be a string$/]]],
    ['an empty path', { ...ok, path: '' }, [['path', /^path is empty$/]]],
    ['an empty segment', { ...ok, path: 'a..b' }, [['path', /^empty segment at position 2$/]]],
    ['a trailing dot', { ...ok, path: 'payload.' }, [['path', /ends with a dot/]]],
    ['a missing operator', { path: 'a', value: 'x' }, [['operator', /^is required$/]]],
    [
      'an unknown operator',
      { ...ok, operator: 'like' },
      [['operator', /^must be one of eq, neq, gt, lt, begin, contains, end, present, empty, match$/]],
    ],
    ['an upper-case operator', { ...ok, operator: 'EQ' }, [['operator', /must be one of/]]],
    ['a missing value', { path: 'a', operator: 'eq' }, [['value', /^is required for operator eq$/]]],
    [
      'a null value',
      { path: 'a', operator: 'contains', value: null },
      [['value', /is required for operator contains/]],
    ],
    ['an object value', { ...ok, value: {} }, [['value', /^must be a string, number or boolean$/]]],
    ['an array value', { ...ok, value: ['a'] }, [['value', /must be a string, number or boolean/]]],
    ['a numeric string for gt', { path: 'a', operator: 'gt', value: '100' }, []],
    ['a number for lt', { path: 'a', operator: 'lt', value: -2.5 }, []],
    [
      'a word for gt',
      { path: 'a', operator: 'gt', value: 'abc' },
      [['value', /^must be a number for operator gt$/]],
    ],
    [
      'an empty string for lt',
      { path: 'a', operator: 'lt', value: '' },
      [['value', /must be a number for operator lt/]],
    ],
    ['a boolean for gt', { path: 'a', operator: 'gt', value: true }, [['value', /must be a number/]]],
    ['a missing value for gt', { path: 'a', operator: 'gt' }, [['value', /is required for operator gt/]]],
    ['present without value', { path: 'a', operator: 'present' }, []],
    ['empty with a value (ignored)', { path: 'a', operator: 'empty', value: { any: 1 } }, []],
    ['match_rule any', { ...ok, match_rule: 'any' }, []],
    ['match_rule null (not set)', { ...ok, match_rule: null }, []],
    ['an unknown match_rule', { ...ok, match_rule: 'some' }, [['match_rule', /^must be "all" or "any"$/]]],
    ['an upper-case match_rule', { ...ok, match_rule: 'ANY' }, [['match_rule', /"all" or "any"/]]],
    ['unknown extra fields (ignored)', { ...ok, comment: 'x' }, []],
    ['a valid regex', { path: 'a', operator: 'match', value: '^R\\d+$' }, []],
    ['a regex literal', { path: 'a', operator: 'match', value: '/^r\\d+$/ims' }, []],
    [
      'an unclosed group',
      { path: 'a', operator: 'match', value: '(a' },
      [['value', /^invalid regular expression: .*missing closing \)/]],
    ],
    [
      'a bad class range',
      { path: 'a', operator: 'match', value: '[z-a]' },
      [['value', /^invalid regular expression: .*range/]],
    ],
    [
      'a nested repetition',
      { path: 'a', operator: 'match', value: 'a**' },
      [['value', /^invalid regular expression/]],
    ],
    [
      'a look-ahead (not RE2)',
      { path: 'a', operator: 'match', value: 'a(?=b)' },
      [['value', /^invalid regular expression/]],
    ],
    [
      'a back-reference (not RE2)',
      { path: 'a', operator: 'match', value: '(a)\\1' },
      [['value', /^invalid regular expression/]],
    ],
    [
      'a huge repeat count',
      { path: 'a', operator: 'match', value: 'a{5000}' },
      [['value', /^invalid regular expression: .*repeat/]],
    ],
    [
      'the g flag',
      { path: 'a', operator: 'match', value: '/a/g' },
      [['value', /^unsupported regular expression flag "g" \(allowed: i, m, s\)$/]],
    ],
    ['the u flag', { path: 'a', operator: 'match', value: '/a/iu' }, [['value', /flag "u"/]]],
    ['a 1,000-char regex', { path: 'a', operator: 'match', value: 'a'.repeat(1000) }, []],
    [
      'a 1,001-char regex',
      { path: 'a', operator: 'match', value: 'a'.repeat(1001) },
      [['value', /^regular expression is 1001 characters long, the maximum is 1000$/]],
    ],
    [
      'a regex of 600 emoji (1,200 code units)',
      { path: 'a', operator: 'match', value: '🚚'.repeat(600) },
      [],
    ],
    [
      'several bad fields',
      { path: 'a..', operator: 'nope', match_rule: 1 },
      [
        ['path', /ends with a dot/],
        ['operator', /must be one of/],
        ['match_rule', /"all" or "any"/],
      ],
    ],
    [
      'bad path and bad value',
      { path: ' ', operator: 'gt', value: 'x' },
      [
        ['path', /whitespace/],
        ['value', /must be a number/],
      ],
    ],
  ];
  for (const [label, input, expected] of cases) {
    it(label, () => {
      const got = issues(input);
      assert.equal(got.length, expected.length, JSON.stringify(got));
      expected.forEach(([field, reason], i) => {
        assert.equal(got[i]?.[0], field, JSON.stringify(got));
        assert.match(String(got[i]?.[1]), reason);
      });
    });
  }
  it('accepts every operator with a suitable value', () => {
    for (const operator of OPERATORS) {
      const value = operator === 'gt' || operator === 'lt' ? 1 : operator === 'match' ? '.' : 'x';
      assert.deepEqual(checkFilter({ path: 'a', operator, value }), [], operator);
    }
  });
});

describe('compileFilter', () => {
  it('throws a FilterSpecError carrying the issues', () => {
    const bad = { path: 'a', operator: 'match', value: '(' } as FilterSpec;
    assert.throws(
      () => compileFilter(bad),
      (error: unknown) =>
        error instanceof FilterSpecError &&
        error.issues[0]?.field === 'value' &&
        /value invalid regular/.test(error.message),
    );
    assert.throws(() => compileFilter({ path: '', operator: 'eq', value: 'x' }), FilterSpecError);
  });
  it('keeps a frozen copy of the spec and the parsed path', () => {
    const spec: FilterSpec = { path: 'payload.order.status', operator: 'eq', value: 'complete' };
    const filter = compileFilter(spec);
    spec.value = 'changed';
    assert.deepEqual(filter.spec, { path: 'payload.order.status', operator: 'eq', value: 'complete' });
    assert.ok(Object.isFrozen(filter.spec));
    assert.deepEqual(filter.path, ['payload', 'order', 'status']);
    assert.equal(filter.test(['complete']), true);
  });
});

describe('applyFilters', () => {
  const status = compileFilter({ path: 'payload.order.status', operator: 'eq', value: 'complete' });
  const total = compileFilter({ path: 'payload.order.total', operator: 'gt', value: '100' });
  const skus = compileFilter({
    path: 'payload.order.shipments.*.items.*.sku',
    operator: 'eq',
    value: 'ROR-0009',
    match_rule: 'any',
  });
  const missing = compileFilter({ path: 'payload.order.released_at', operator: 'present' });

  it('passes with no filters', () => assert.deepEqual(applyFilters([], message), { pass: true }));
  it('passes when every filter passes', () => {
    const cheap = compileFilter({ path: 'payload.order.total', operator: 'gt', value: 10 });
    assert.deepEqual(applyFilters([status, cheap], message), { pass: true });
  });
  it('reports the first failing filter with the values it saw', () => {
    assert.deepEqual(applyFilters([status, total, skus], message), {
      pass: false,
      index: 1,
      spec: total.spec,
      seen: ['15.99'],
    });
  });
  it('reports every value a wildcard path saw', () => {
    assert.deepEqual(applyFilters([status, skus, total], message), {
      pass: false,
      index: 1,
      spec: skus.spec,
      seen: ['ROR-0001', 'ROR-0002', 'ROR-0003'],
    });
  });
  it('reports an empty list for a path that yields nothing', () => {
    assert.deepEqual(applyFilters([missing, status], message), {
      pass: false,
      index: 0,
      spec: missing.spec,
      seen: [],
    });
  });
  it('does not evaluate filters after the first failure', () => {
    let called = false;
    const spy = {
      spec: status.spec,
      path: status.path,
      test: () => {
        called = true;
        return true;
      },
    };
    applyFilters([total, spy], message);
    assert.equal(called, false);
  });
  it('handles a message that is not an object', () => {
    assert.deepEqual(applyFilters([missing], null), { pass: false, index: 0, spec: missing.spec, seen: [] });
    assert.deepEqual(applyFilters([compileFilter({ path: 'a', operator: 'empty' })], 'text'), { pass: true });
  });
});
