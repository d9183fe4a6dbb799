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

/** A promise with its resolve and reject at hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test("callers arriving during a large archive's count share it; a small or unknown one is not shared", async () => {
  const counts = new ArchiveCounts(policy);
  let clock = 0;
  // unknown store: the count is not offered to others (each caller counts what was there at its call)
  const first = deferred<number>();
  const mine = counts.counting('s', first.promise, 0, () => clock);
  assert.equal(counts.reusable('s', 0), undefined);
  clock = 40;
  first.resolve(5_000);
  assert.equal(await mine, 5_000);
  assert.equal(counts.reusable('s', 40), 5_000, 'kept for 20 × 40 ms');

  // the window is over: the next count of this (large) store is shared while it runs
  const second = deferred<number>();
  const started = counts.counting('s', second.promise, 900, () => clock);
  const joined = counts.reusable('s', 901);
  assert.ok(joined instanceof Promise, 'a caller arriving meanwhile gets the count under way');
  clock = 910;
  second.resolve(5_001);
  assert.equal(await started, 5_001);
  assert.equal(await joined, 5_001);
  assert.equal(counts.reusable('s', 911), 5_001, 'then kept for 20 × 10 ms');
  assert.equal(counts.reusable('s', 1_110), undefined);

  // a count that fails is not offered to later callers
  const third = deferred<number>();
  const failing = counts.counting('s', third.promise, 1_200, () => clock);
  third.reject(new Error('reader gone'));
  await assert.rejects(failing, /reader gone/);
  assert.equal(counts.reusable('s', 1_201), undefined);
});
