import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseDelaySeconds, nextDelayMs, parseRetryAfter } from '../../../src/pipeline/delivery/backoff.js';

test('the documented schedule, then every 8 hours', () => {
  const expected = [15, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 28800, 28800];
  assert.deepEqual(
    expected.map((_, i) => baseDelaySeconds(i + 1)),
    expected,
  );
  assert.equal(baseDelaySeconds(0), 0);
  assert.equal(baseDelaySeconds(1000), 28800);
});

test('jitter stays within ±20 % and 0.5 means none', () => {
  assert.equal(nextDelayMs(1, 0.5), 15_000);
  assert.equal(nextDelayMs(1, 0), 12_000);
  assert.equal(nextDelayMs(1, 0.999999), 18_000);
  for (let failures = 1; failures < 12; failures++) {
    for (const r of [0, 0.1, 0.5, 0.9, 0.9999]) {
      const d = nextDelayMs(failures, r) / 1000;
      const base = baseDelaySeconds(failures);
      assert.ok(d >= base * 0.8 - 0.001 && d <= base * 1.2 + 0.001, `${failures}: ${d}`);
    }
  }
});

test('Retry-After replaces the schedule, capped at 24 hours; 0 (or a date past) leaves the schedule', () => {
  assert.equal(nextDelayMs(3, 0.5, 120), 120_000);
  assert.equal(nextDelayMs(3, 0.5, 10 * 24 * 3600), 24 * 3600 * 1000);
  assert.equal(nextDelayMs(3, 0.5, 0), nextDelayMs(3, 0.5));
  assert.equal(nextDelayMs(3, 0.5, 0), baseDelaySeconds(3) * 1000);
});

test('Retry-After header: seconds or an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('30', now), 30);
  assert.equal(parseRetryAfter(' 7 ', now), 7);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
});
