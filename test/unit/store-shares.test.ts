import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_SHARE, StoreShares } from '../../src/pipeline/delivery/store-shares.js';

test('a store may hold half of what the others leave, and never less than MIN_SHARE', () => {
  const shares = new StoreShares(256);
  assert.equal(shares.shareOf('b'), 128, 'alone: half the slots');
  for (let i = 0; i < 128; i++) shares.started('b');
  assert.equal(shares.mayStart('b'), false);
  assert.equal(shares.shareOf('a'), 64, 'the next store: half of the 128 left');
  for (let i = 0; i < 64; i++) shares.started('a');
  assert.equal(shares.shareOf('c'), 32);
  assert.equal(shares.shareOf('b'), 96, 'b is over its share now: it starts nothing until it is under');
  assert.equal(shares.mayStart('b'), false);
  for (let i = 0; i < 40; i++) shares.ended('b');
  assert.equal(shares.mayStart('b'), true, '88 held, under its 96');
  // however full the process, a store gets MIN_SHARE
  const full = new StoreShares(8);
  for (let i = 0; i < 8; i++) full.started('x');
  assert.equal(full.shareOf('y'), MIN_SHARE);
});
