import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArchiveCounts } from '../../src/storage/archive-counts.js';

const policy = { fromRows: 1_000, factor: 20, maxMs: 10_000 };

test('a large archive count is reused for factor times what it cost, then counted again', () => {
  const counts = new ArchiveCounts(policy);
  assert.equal(counts.reusable('s', 0), undefined, 'nothing counted yet');
  // 50 ms to count: reusable for 1 s
  counts.counted('s', 5_000, 1_000, 1_050);
  assert.equal(counts.reusable('s', 1_050), 5_000);
  assert.equal(counts.reusable('s', 2_049), 5_000);
  assert.equal(counts.reusable('s', 2_050), undefined, 'the window is over');
  assert.equal(counts.reusable('s', 2_051), undefined);
  assert.equal(counts.reusable('other', 1_100), undefined, 'per store');
});

test('a small archive is counted every time, and a new count replaces the old', () => {
  const counts = new ArchiveCounts(policy);
  counts.counted('s', 999, 0, 500);
  assert.equal(counts.reusable('s', 500), undefined, 'under fromRows');
  counts.counted('s', 2_000, 0, 100);
  assert.equal(counts.reusable('s', 150), 2_000);
  // the archive shrank below the threshold (retention): the kept count is dropped at once
  counts.counted('s', 10, 150, 200);
  assert.equal(counts.reusable('s', 201), undefined);
});

test('the reuse never lasts longer than maxMs, and a count that cost nothing is not reused', () => {
  const counts = new ArchiveCounts(policy);
  counts.counted('slow', 1_000_000, 0, 5_000);
  assert.equal(counts.reusable('slow', 5_000 + 9_999), 1_000_000);
  assert.equal(counts.reusable('slow', 5_000 + 10_000), undefined);
  counts.counted('instant', 1_000_000, 7, 7);
  assert.equal(counts.reusable('instant', 7), undefined);
});
