import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTypePattern,
  isMessageType,
  TypeIndex,
  typeMatches,
} from '../../../src/pipeline/routing/message-types.js';

describe('checkTypePattern: valid', () => {
  const valid = [
    'order:new',
    'spree:order:poll',
    'vpd:shipment:pickup:poll',
    'order_2:new_1',
    '0:1',
    'order:*',
    '*:new',
    '*:*',
    'a:*:c',
    'order:*:*',
    '*',
    `a:${'b'.repeat(253)}`,
  ];
  for (const pattern of valid) {
    it(JSON.stringify(pattern.slice(0, 40)), () => assert.equal(checkTypePattern(pattern), null));
  }
});

describe('checkTypePattern: invalid', () => {
  const cases: [unknown, RegExp][] = [
    [123, /^must be a string$/],
    [null, /^must be a string$/],
    [['order:new'], /^must be a string$/],
    ['', /^must not be empty$/],
    ['order', /two or more ":"-separated segments/],
    ['order.new', /two or more/],
    ['**', /two or more/],
    ['Order:new', /^segment 1 \("Order"\) must be lower-case letters, digits and "_", or "\*"$/],
    ['order:New', /segment 2 \("New"\)/],
    ['order:', /^segment 2 is empty$/],
    [':new', /^segment 1 is empty$/],
    ['order::new', /^segment 2 is empty$/],
    ['order:ne*', /^segment 2 \("ne\*"\): "\*" must be a whole segment$/],
    ['order:**', /"\*" must be a whole segment/],
    ['*order:new', /segment 1 .*whole segment/],
    ['order:new ', /segment 2/],
    [' order:new', /segment 1/],
    ['order-x:new', /segment 1/],
    ['order:nеw', /segment 2/],
    ['zürich:new', /segment 1/],
    [`a:${'b'.repeat(254)}`, /^is 256 characters long, the maximum is 255$/],
  ];
  for (const [pattern, reason] of cases) {
    it(JSON.stringify(pattern)?.slice(0, 40) ?? String(pattern), () => {
      assert.match(String(checkTypePattern(pattern)), reason);
    });
  }
});

describe('isMessageType', () => {
  const cases: [unknown, boolean][] = [
    ['order:new', true],
    ['spree:order:poll', true],
    ['order', false],
    ['order:*', false],
    ['*', false],
    ['Order:new', false],
    ['order:', false],
    [1, false],
  ];
  for (const [type, expected] of cases) {
    it(`${JSON.stringify(type)} → ${expected}`, () => assert.equal(isMessageType(type), expected));
  }
});

describe('typeMatches', () => {
  const cases: [string, string, boolean][] = [
    ['order:new', 'order:new', true],
    ['order:new', 'order:updated', false],
    ['order:new', 'order:new:extra', false],
    ['order:new', 'spree:order:new', false],
    ['order:*', 'order:new', true],
    ['order:*', 'order:updated', true],
    ['order:*', 'order:payment:captured', false],
    ['order:*', 'order', false],
    ['order:*', 'order:', false],
    ['order:*', 'shipment:new', false],
    ['*:new', 'order:new', true],
    ['*:new', 'shipment:new', true],
    ['*:new', 'order:cancel', false],
    ['*:new', 'spree:order:new', false],
    ['*:*', 'order:new', true],
    ['*:*', 'spree:order:poll', false],
    ['order:*:*', 'order:payment:captured', true],
    ['order:*:*', 'order:new', false],
    ['a:*:c', 'a:b:c', true],
    ['a:*:c', 'a:b:d', false],
    ['spree:*:poll', 'spree:order:poll', true],
    ['*', 'order:new', true],
    ['*', 'spree:order:poll', true],
    ['*', 'vpd:shipment:pickup:poll', true],
  ];
  for (const [pattern, type, expected] of cases) {
    it(`${pattern} ~ ${type} → ${expected}`, () => assert.equal(typeMatches(pattern, type), expected));
  }
});

describe('TypeIndex', () => {
  const entries = [
    { patterns: ['order:new'], value: 'A' },
    { patterns: ['order:*'], value: 'B' },
    { patterns: ['*'], value: 'C' },
    { patterns: ['*:new', 'order:new'], value: 'D' },
    { patterns: ['shipment:ready'], value: 'E' },
    { patterns: ['order:*:*'], value: 'F' },
    { patterns: ['*:*'], value: 'G' },
    { patterns: ['order:new', 'order:*', '*:new', '*'], value: 'H' },
    { patterns: ['spree:order:poll', 'order:new'], value: 'I' },
  ];
  const index = new TypeIndex(entries);
  const cases: [string, string[]][] = [
    ['order:new', ['A', 'B', 'C', 'D', 'G', 'H', 'I']],
    ['order:updated', ['B', 'C', 'G', 'H']],
    ['order:payment:captured', ['C', 'F', 'H']],
    ['shipment:ready', ['C', 'E', 'G', 'H']],
    ['shipment:new', ['C', 'D', 'G', 'H']],
    ['spree:order:poll', ['C', 'H', 'I']],
    ['unknown:type', ['C', 'G', 'H']],
    ['a:b:c:d', ['C', 'H']],
  ];
  for (const [type, expected] of cases) {
    it(`${type} → ${expected.join(',')}`, () => assert.deepEqual(index.lookup(type), expected));
  }

  it('returns each entry once, in constructor order, whichever pattern matched', () => {
    const reordered = new TypeIndex([
      { patterns: ['*'], value: 1 },
      { patterns: ['order:*', 'order:new'], value: 2 },
      { patterns: ['order:new'], value: 3 },
      { patterns: ['*:new', '*:*', '*'], value: 4 },
    ]);
    assert.deepEqual(reordered.lookup('order:new'), [1, 2, 3, 4]);
    assert.deepEqual(reordered.lookup('product:new'), [1, 4]);
  });

  it('keeps distinct entries that carry equal values', () => {
    const same = { id: 'm' };
    const twice = new TypeIndex([
      { patterns: ['order:new'], value: same },
      { patterns: ['order:*'], value: same },
    ]);
    assert.equal(twice.lookup('order:new').length, 2);
  });

  it('returns a frozen, memoised result', () => {
    const first = index.lookup('order:new');
    assert.ok(Object.isFrozen(first));
    assert.equal(index.lookup('order:new'), first);
  });

  it('is empty without entries or patterns', () => {
    assert.deepEqual(new TypeIndex([]).lookup('order:new'), []);
    assert.deepEqual(new TypeIndex([{ patterns: [], value: 'x' }]).lookup('order:new'), []);
  });

  it('throws on an invalid pattern', () => {
    assert.throws(
      () => new TypeIndex([{ patterns: ['Order:new'], value: 1 }]),
      /invalid message type pattern/,
    );
    assert.throws(() => new TypeIndex([{ patterns: ['order:ne*'], value: 1 }]), /whole segment/);
  });

  it('finds one exact entry among thousands', () => {
    const many = new TypeIndex(
      Array.from({ length: 5000 }, (_, i) => ({ patterns: [`type${i}:new`], value: i })),
    );
    assert.deepEqual(many.lookup('type4321:new'), [4321]);
    assert.deepEqual(many.lookup('type5000:new'), []);
  });

  it('stays correct when the memo is cleared past 10,000 distinct types', () => {
    const before = index.lookup('order:updated');
    for (let i = 0; i < 10_050; i++) {
      assert.deepEqual(index.lookup(`flood${i}:new`), ['C', 'D', 'G', 'H']);
    }
    assert.deepEqual(index.lookup('order:updated'), before);
    assert.deepEqual(index.lookup('order:payment:captured'), ['C', 'F', 'H']);
  });

  it('agrees with typeMatches on every pattern × type combination', () => {
    const segments = ['order', 'new', 'x', '*'];
    const patterns = ['*'];
    for (const a of segments) {
      for (const b of segments) {
        patterns.push(`${a}:${b}`);
        for (const c of segments) patterns.push(`${a}:${b}:${c}`);
      }
    }
    const types = patterns.filter((p) => !p.includes('*')).concat(['order', 'z:z', 'order:new:x:x']);
    const all = patterns.map((pattern, i) => ({
      patterns: [pattern, patterns[(i * 7) % patterns.length]!],
      value: i,
    }));
    const big = new TypeIndex(all);
    for (const type of types) {
      const expected = all.filter((e) => e.patterns.some((p) => typeMatches(p, type))).map((e) => e.value);
      assert.deepEqual(big.lookup(type), expected, type);
    }
  });
});
