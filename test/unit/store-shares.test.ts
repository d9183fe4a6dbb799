import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_SHARE, StoreShares } from '../../src/pipeline/delivery/store-shares.js';

// deliveries of one store spread over eight endpoints, so only the store's share binds
const spread = (shares: StoreShares, store: string, n: number, op: 'started' | 'ended') => {
  for (let i = 0; i < n; i++) shares[op](store, `https://e${i % 8}.example`);
};

test('a store may hold half of what the others leave, and never less than MIN_SHARE', () => {
  const shares = new StoreShares(256);
  assert.equal(shares.shareOf('b'), 128, 'alone: half the slots');
  spread(shares, 'b', 128, 'started');
  assert.equal(shares.mayStart('b', 'https://new.example'), false);
  assert.equal(shares.shareOf('a'), 64, 'the next store: half of the 128 left');
  spread(shares, 'a', 64, 'started');
  assert.equal(shares.shareOf('c'), 32);
  assert.equal(shares.shareOf('b'), 96, 'b is over its share now: it starts nothing until it is under');
  assert.equal(shares.mayStart('b', 'https://new.example'), false);
  spread(shares, 'b', 40, 'ended');
  assert.equal(shares.mayStart('b', 'https://new.example'), true, '88 held, under its 96');
  // however full the process, a store gets MIN_SHARE
  const full = new StoreShares(8);
  spread(full, 'x', 8, 'started');
  assert.equal(full.shareOf('y'), MIN_SHARE);
});

test("within a store, one endpoint may hold half of what the store's other endpoints leave", () => {
  const shares = new StoreShares(256);
  const hung = 'https://hung.example';
  assert.equal(shares.originShareOf('s', hung), 64, "half of the store's 128");
  for (let i = 0; i < 64; i++) shares.started('s', hung);
  assert.equal(shares.mayStart('s', hung), false);
  assert.equal(shares.originShareOf('s', 'https://other.example'), 32, 'half of the 64 the store has left');
  assert.equal(shares.mayStart('s', 'https://other.example'), true);
});
