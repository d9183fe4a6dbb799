import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  checkStoreSchema,
  library,
  STORE_SCHEMA_LIMITS,
  StoreSchemaCache,
  StoreSchemaError,
} from '../../src/library/index.js';

const DOCUMENTED_TYPES = [
  'order:new',
  'order:updated',
  'order:canceled',
  'order:import',
  'order:persist',
  'order:ship',
  'order:capture',
  'shipment:ready',
  'shipment:confirm',
  'stock:change',
  'stock:actual',
  'stock:query',
  'product:new',
  'product:update',
  'payment:capture',
  'payment:ready',
  'notification:info',
  'notification:warn',
  'notification:error',
  'purchase_order:new',
  'purchase_order:received',
  'purchase_order:confirm',
  'purchase_order:transmit',
  'cart:new',
  'cart:updated',
  'user:new',
  'user:updated',
];

function pointers(type: string, payload: unknown): string[] {
  return library.validate(type, payload).map((issue) => issue.pointer);
}

/** The sample's payload with `change` applied, for payloads that differ from a valid one in one place. */
function samplePayload(
  type: string,
  change: (payload: Record<string, any>) => void,
): Record<string, unknown> {
  const payload = library.sample(type)!.payload;
  change(payload);
  return payload;
}

describe('message library: types and samples', () => {
  it('has a schema for every documented type, sorted', () => {
    const types = library.types();
    assert.deepEqual(types, [...types].sort());
    for (const type of DOCUMENTED_TYPES) assert.ok(library.has(type), type);
    assert.equal(library.has('acme:thing:done'), false);
  });

  it('has exactly one sample per schema type and vice versa', () => {
    assert.deepEqual(library.sampleTypes(), library.types());
    assert.deepEqual(library.sampleTypes(), [...library.sampleTypes()].sort());
  });

  it('validates every sample against its type', () => {
    for (const type of library.sampleTypes()) {
      const sample = library.sample(type)!;
      assert.equal(sample.message, type);
      assert.deepEqual(library.validate(type, sample.payload), [], type);
    }
  });

  it('validates the seed fixture as product:new, and uses it as the sample', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../fixtures/new_product.json', import.meta.url), 'utf8'),
    );
    assert.equal(fixture.message, 'product:new');
    assert.deepEqual(library.validate('product:new', fixture.payload), []);
    assert.deepEqual(library.sample('product:new'), fixture);
  });

  it('returns a fresh deep copy of a sample each time', () => {
    const first = library.sample('order:new')!;
    (first.payload.order as { number: string }).number = 'CHANGED';
    assert.equal((library.sample('order:new')!.payload.order as { number: string }).number, 'R104702249');
    assert.equal(library.sample('acme:thing:done'), undefined);
  });

  it('lets custom types through with any object payload', () => {
    assert.deepEqual(library.validate('acme:thing:done', {}), []);
    assert.deepEqual(library.validate('acme:thing:done', { anything: [1, 'two', null] }), []);
    assert.deepEqual(library.validate('order:shipped:late', { order: 42 }), []);
  });
});

describe('message library: leniency', () => {
  it('accepts the nested product form, with id or sku', () => {
    assert.deepEqual(library.validate('product:new', { product: { id: 1123, name: 'Tote' } }), []);
    assert.deepEqual(library.validate('product:update', { product: { sku: 'ROR-00011' } }), []);
    assert.deepEqual(library.validate('product:new', { name: 'Tote', sku: 'ROR-00011', price: 15.99 }), []);
  });

  it('accepts extra properties everywhere and numeric strings for prices', () => {
    const payload = samplePayload('order:new', (p) => {
      p.custom = { anything: true };
      p.order.loyalty_points = 12;
      p.order.line_items[0].price = '30.00';
      p.order.line_items[0].gift_wrap = true;
      p.order.shipping_address.instructions = 'leave at the door';
      p.order.totals.order = '76.98';
    });
    assert.deepEqual(library.validate('order:new', payload), []);
  });

  it('accepts nulls where the originals send them, and an empty order:persist', () => {
    const payload = samplePayload('shipment:ready', (p) => {
      p.shipment.tracking = null;
      p.shipment.stock_location = null;
      p.order.line_items[0].variant_id = null;
      p.order.line_items[0].external_ref = null;
    });
    assert.deepEqual(library.validate('shipment:ready', payload), []);
    assert.deepEqual(library.validate('order:persist', {}), []);
  });

  it('accepts the flat shipment:confirm form and negative stock deltas', () => {
    const flat = { shipment_number: 'H11357178202', tracking_number: '1Z879E9R0359588375', carrier: 'UPS' };
    assert.deepEqual(library.validate('shipment:confirm', flat), []);
    assert.deepEqual(library.validate('stock:change', { sku: 'APC-00001', quantity: -3 }), []);
  });
});

// [type, payload, expected pointer, expected message (optional)]
const INVALID: Array<[string, unknown, string, string?]> = [
  ['order:new', 'R104702249', '/payload', 'must be object'],
  ['order:new', null, '/payload', 'must be object'],
  ['stock:change', [], '/payload', 'must be object'],
  ['product:new', null, '/payload', 'must be object'],
  ['order:new', {}, '/payload/order', 'is required'],
  ['order:new', { order: {} }, '/payload/order/number', 'is required'],
  ['order:new', { order: { number: 104702249 } }, '/payload/order/number', 'must be string'],
  ['order:new', { order: { number: '' } }, '/payload/order/number', 'must not be empty'],
  [
    'order:new',
    samplePayload('order:new', (p) => delete p.order.line_items[1].sku),
    '/payload/order/line_items/1/sku',
    'is required',
  ],
  [
    'order:updated',
    samplePayload('order:updated', (p) => {
      p.order.shipping_address.address1 = null;
    }),
    '/payload/order/shipping_address/address1',
    'must be string',
  ],
  ['order:updated', samplePayload('order:updated', (p) => (p.diff = [])), '/payload/diff', 'must be object'],
  [
    'order:canceled',
    samplePayload('order:canceled', (p) => (p.order.totals.order = 'lots')),
    '/payload/order/totals/order',
    'must be a number or a numeric string',
  ],
  [
    'order:import',
    { order: { number: 'R1', line_items: [{ sku: 'X', quantity: '2' }] } },
    '/payload/order/line_items/0/quantity',
  ],
  [
    'order:ship',
    { order: { number: 'R1' }, parameters: [{ value: 1 }] },
    '/payload/parameters/0/name',
    'is required',
  ],
  ['order:capture', { order: { number: 'R1' }, parameters: { 'spree.api_url': 'x' } }, '/payload/parameters'],
  ['order:persist', { order: { number: 5 } }, '/payload/order/number', 'must be string'],
  ['shipment:ready', {}, '/payload/shipment', 'is required'],
  ['shipment:ready', { shipment: {} }, '/payload/shipment/number', 'is required'],
  [
    'shipment:ready',
    samplePayload('shipment:ready', (p) => (p.shipment.cost = true)),
    '/payload/shipment/cost',
    'must be a number or a numeric string',
  ],
  [
    'shipment:confirm',
    { tracking: '1Z879E9R0359588375' },
    '/payload',
    'must have shipment with a number, or a flat shipment_number',
  ],
  [
    'shipment:confirm',
    { shipment: { number: 'H1', items: [{ sku: 'X', quantity: 1.5 }] } },
    '/payload/shipment/items/0/quantity',
    'must be integer',
  ],
  ['stock:change', { sku: 'APC-00001', quantity: '10' }, '/payload/quantity', 'must be integer'],
  ['stock:change', { quantity: 10 }, '/payload/sku', 'is required'],
  ['stock:actual', { sku: 'ROR-001234', quantity: 2.5 }, '/payload/quantity', 'must be integer'],
  ['stock:actual', { sku: '', quantity: 2 }, '/payload/sku', 'must not be empty'],
  ['stock:query', {}, '/payload/sku', 'is required'],
  ['product:new', {}, '/payload', 'must be a flat product (name plus id or sku) or an object with product'],
  [
    'product:new',
    { name: 'Tote' },
    '/payload',
    'must be a flat product (name plus id or sku) or an object with product',
  ],
  [
    'product:new',
    { id: 1123, name: 'Tote', price: 'cheap' },
    '/payload/price',
    'must be a number or a numeric string',
  ],
  ['product:new', { id: 1123, name: null }, '/payload/name', 'must be string'],
  ['product:update', { product: { name: 'Tote' } }, '/payload/product', "must have 'id' or 'sku'"],
  ['product:update', { product: 'ROR-00011' }, '/payload/product', 'must be object'],
  ['payment:capture', { payment: { amount: true } }, '/payload/payment/amount'],
  ['payment:ready', {}, '/payload/payment', 'is required'],
  ['notification:info', { description: 'no subject' }, '/payload/subject', 'is required'],
  ['notification:error', { subject: 42 }, '/payload/subject', 'must be string'],
  [
    'notification:warn',
    { subject: 'Low stock', description: 7 },
    '/payload/description',
    'must be string or null',
  ],
  ['purchase_order:new', { purchase_order: {} }, '/payload/purchase_order/po_number', 'is required'],
  [
    'purchase_order:received',
    { purchase_order: { po_number: 'PO-1', items: [{ quantity: 'ten' }] } },
    '/payload/purchase_order/items/0/quantity',
    'must be an integer or a string of digits',
  ],
  ['purchase_order:confirm', { purchase_order: { po_number: '' } }, '/payload/purchase_order/po_number'],
  ['purchase_order:transmit', {}, '/payload/purchase_order', 'is required'],
  ['cart:new', { cart: {} }, '/payload/cart/number', 'is required'],
  [
    'cart:updated',
    { cart: { number: 'R9', line_items: [{ quantity: 1 }] } },
    '/payload/cart/line_items/0/sku',
  ],
  ['user:new', { user: {} }, '/payload/user', "must have 'email' or 'id'"],
  ['user:updated', { user: { email: 5 } }, '/payload/user/email', 'must be string'],
];

describe('message library: invalid payloads', () => {
  for (const [type, payload, pointer, message] of INVALID) {
    const shown = JSON.stringify(payload);
    it(`${type} ${shown.length <= 70 ? shown : '(sample, changed)'} -> ${pointer}`, () => {
      const issues = library.validate(type, payload);
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.equal(issues[0]!.pointer, pointer);
      if (message !== undefined) assert.equal(issues[0]!.message, message);
    });
  }

  it('covers every family', () => {
    const families = new Set(INVALID.map(([type]) => type.split(':')[0]));
    for (const type of library.types()) assert.ok(families.has(type.split(':')[0]), type);
  });

  it('escapes property names in pointers', () => {
    assert.deepEqual(pointers('order:new', { order: { number: 'R1', 'a/b~c': 1 } }), []);
    const cache = new StoreSchemaCache();
    const validate = cache.validator('escape:1', { type: 'object', required: ['a/b~c'] });
    assert.deepEqual(validate({}), [{ pointer: '/payload/a~1b~0c', message: 'is required' }]);
  });
});

describe('store schemas: checkStoreSchema', () => {
  const nested = (levels: number): Record<string, unknown> => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < levels; i++) schema = { not: schema };
    return schema;
  };

  it('accepts a reasonable schema', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      required: ['code'],
      properties: {
        code: { $ref: '#/$defs/code' },
        note: { const: { $ref: 'https://example.com/not-a-ref' } },
      },
      $defs: { code: { type: 'string', pattern: '^[A-Z]{3}-[0-9]+$' } },
    };
    assert.deepEqual(checkStoreSchema(schema), []);
    assert.deepEqual(checkStoreSchema(nested(STORE_SCHEMA_LIMITS.maxDepth - 1)), []);
  });

  it('rejects non-objects', () => {
    for (const schema of [null, 'object', 42, [], true]) {
      assert.deepEqual(pointersOf(checkStoreSchema(schema)), ['/schema'], JSON.stringify(schema));
    }
  });

  it('rejects a schema that is too large', () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 3000; i++) properties[`field_${i}`] = { type: 'string', description: 'x'.repeat(20) };
    const issues = checkStoreSchema({ type: 'object', properties });
    assert.deepEqual(pointersOf(issues), ['/schema']);
    assert.match(issues[0]!.message, /larger than 65536 bytes/);
  });

  it('rejects a schema that is too deep', () => {
    const issues = checkStoreSchema(nested(STORE_SCHEMA_LIMITS.maxDepth + 5));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.pointer, '/schema' + '/not'.repeat(STORE_SCHEMA_LIMITS.maxDepth));
    assert.match(issues[0]!.message, /deeper than 32/);
  });

  it('rejects invalid keyword values against the 2020-12 meta-schema', () => {
    assert.deepEqual(pointersOf(checkStoreSchema({ type: 'strnig' })), ['/schema/type']);
    assert.deepEqual(pointersOf(checkStoreSchema({ properties: { n: { minimum: 'zero' } } })), [
      '/schema/properties/n/minimum',
    ]);
    assert.deepEqual(pointersOf(checkStoreSchema({ required: 'sku' })), ['/schema/required']);
  });

  it('rejects remote references, $id and other dialects', () => {
    const remote = { properties: { a: { $ref: 'https://evil.example/schema.json' } } };
    assert.deepEqual(pointersOf(checkStoreSchema(remote)), ['/schema/properties/a/$ref']);
    assert.deepEqual(pointersOf(checkStoreSchema({ $ref: 'other.json#/x' })), ['/schema/$ref']);
    assert.deepEqual(pointersOf(checkStoreSchema({ $id: 'https://json-schema.org/draft/2020-12/schema' })), [
      '/schema/$id',
    ]);
    const draft7 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' };
    assert.deepEqual(pointersOf(checkStoreSchema(draft7)), ['/schema/$schema']);
  });

  it('rejects long patterns', () => {
    const long = `^(${'a|'.repeat(150)}b)$`;
    assert.deepEqual(pointersOf(checkStoreSchema({ properties: { code: { pattern: long } } })), [
      '/schema/properties/code/pattern',
    ]);
    assert.deepEqual(pointersOf(checkStoreSchema({ patternProperties: { [long]: { type: 'string' } } })), [
      `/schema/patternProperties/${long}`,
    ]);
  });

  it('rejects schemas that do not compile', () => {
    assert.match(checkStoreSchema({ $ref: '#/$defs/missing' })[0]!.message, /cannot be compiled/);
    assert.deepEqual(pointersOf(checkStoreSchema({ pattern: '(' })), ['/schema']);
  });

  it('runs patterns in linear time, and refuses what only a backtracking engine can run', () => {
    // with JavaScript's engine this pattern and payload held the event loop for ever
    const validate = new StoreSchemaCache().validator('store1:acme:redos:v1', {
      type: 'object',
      properties: { s: { type: 'string', pattern: '^(a+)+$' }, code: { pattern: '^[A-Z]{3}-\\d+$' } },
      patternProperties: { '^x-': { type: 'string' } },
    });
    const started = performance.now();
    assert.deepEqual(pointersOf(validate({ s: `${'a'.repeat(50_000)}!` })), ['/payload/s']);
    assert.ok(performance.now() - started < 2_000, 'answered at once');
    assert.deepEqual(validate({ s: 'aaa', code: 'ABC-12', 'x-note': 'n' }), []);
    assert.deepEqual(pointersOf(validate({ code: 'abc-12' })), ['/payload/code']);
    assert.deepEqual(pointersOf(validate({ 'x-note': 1 })), ['/payload/x-note']);
    // JavaScript syntax RE2 spells otherwise is rewritten: \uXXXX, \u{…}, [^]
    const js = new StoreSchemaCache().validator('store1:acme:js:v1', {
      properties: { a: { pattern: '^[\\u0020-\\u007e]+$' }, b: { pattern: '^\\u{1F600}[^]$' } },
    });
    assert.deepEqual(js({ a: 'plain ascii', b: '\u{1F600}x' }), []);
    assert.deepEqual(pointersOf(js({ a: 'héllo' })), ['/payload/a']);
    assert.deepEqual(pointersOf(js({ b: 'x' })), ['/payload/b']);
    for (const pattern of ['^(?=a)b', '(a)\\1']) {
      const issues = checkStoreSchema({ properties: { s: { pattern } } });
      assert.match(issues[0]?.message ?? '', /cannot be compiled/, pattern);
    }
  });

  it('allows uniqueItems only where it is checked in one pass or over a bounded list', () => {
    assert.deepEqual(pointersOf(checkStoreSchema({ properties: { tags: { uniqueItems: true } } })), [
      '/schema/properties/tags/uniqueItems',
    ]);
    assert.deepEqual(
      pointersOf(checkStoreSchema({ uniqueItems: true, items: { type: 'object' }, maxItems: 1001 })),
      ['/schema/uniqueItems'],
    );
    for (const ok of [
      { uniqueItems: true, items: { type: 'string' } },
      { uniqueItems: true, items: { type: ['integer', 'string'] } },
      { uniqueItems: true, items: { type: 'object' }, maxItems: 1000 },
      { uniqueItems: false },
    ])
      assert.deepEqual(checkStoreSchema(ok), [], JSON.stringify(ok));
  });
});

describe('store schemas: StoreSchemaCache', () => {
  const schema = {
    type: 'object',
    required: ['code', 'amount'],
    properties: {
      code: { type: 'string', minLength: 3 },
      amount: { anyOf: [{ type: 'number' }, { type: 'string' }] },
    },
  };

  it('compiles a schema that validates and rejects payloads', () => {
    const validate = new StoreSchemaCache().validator('store1:acme:thing:done:v1', schema);
    assert.deepEqual(validate({ code: 'ABC', amount: 10, extra: true }), []);
    assert.deepEqual(validate({ code: 'ABC' }), [{ pointer: '/payload/amount', message: 'is required' }]);
    assert.deepEqual(validate({ code: 'ABC', amount: true }), [
      { pointer: '/payload/amount', message: 'must be number or string' },
    ]);
    assert.deepEqual(pointersOf(validate('nope')), ['/payload']);
  });

  it('returns the same function for the same key and a new one for a new key', () => {
    const cache = new StoreSchemaCache();
    const first = cache.validator('s:acme:thing:v1', schema);
    assert.equal(cache.validator('s:acme:thing:v1', schema), first);
    const second = cache.validator('s:acme:thing:v2', { ...schema, required: ['code'] });
    assert.notEqual(second, first);
    assert.deepEqual(second({ code: 'ABC' }), []);
    assert.equal(cache.size, 2);
  });

  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new StoreSchemaCache(2);
    const a = cache.validator('a', schema);
    const b = cache.validator('b', schema);
    assert.equal(cache.validator('a', schema), a); // a is now the most recent
    cache.validator('c', schema);
    assert.equal(cache.size, 2);
    assert.equal(cache.validator('a', schema), a);
    assert.notEqual(cache.validator('b', schema), b);
    assert.throws(() => new StoreSchemaCache(0), RangeError);
  });

  it('refuses to compile a schema that checkStoreSchema rejects', () => {
    const cache = new StoreSchemaCache();
    assert.throws(
      () => cache.validator('bad', { $ref: 'https://evil.example/s.json' }),
      (err: unknown) => err instanceof StoreSchemaError && err.issues[0]!.pointer === '/schema/$ref',
    );
    assert.equal(cache.size, 0);
  });
});

function pointersOf(issues: Array<{ pointer: string }>): string[] {
  return issues.map((issue) => issue.pointer);
}
