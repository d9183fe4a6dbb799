import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settle } from '../../../src/pipeline/delivery/outcome.js';
import type { LeasedMessage } from '../../../src/storage/delivery-contract.js';
import type { Mapping } from '../../../src/storage/mapping-contract.js';

const DAY = 86_400_000;
const mapping = {
  url: 'http://127.0.0.1:9/jobs',
  options: { retries_allowed: true, max_attempts: null, max_age: 7 * 86_400, timeout_ms: 5000 },
} as unknown as Mapping;
const copy = (ageMs: number) =>
  ({
    id: 'msg-1',
    store_id: 'store-1',
    lease_owner: 'lease-1',
    attempts: 3,
    created_at: Date.now() - ageMs,
    update_url: null,
  }) as unknown as LeasedMessage;
const working = {
  url: mapping.url,
  startedAt: 0,
  durationMs: 1,
  status: 202,
  contentType: 'application/json',
  body: '{"delay":60,"update_url":"/jobs/poll"}',
};

test('an asynchronous endpoint is polled until max_age, then the copy is parked with the reason', () => {
  const young = settle(copy(DAY), mapping, working, Date.now(), 0.5);
  assert.equal(young.outcome.kind, 'scheduled');
  const old = settle(copy(8 * DAY), mapping, working, Date.now(), 0.5);
  assert.deepEqual(old.outcome, {
    kind: 'parked',
    last_error: 'max_age (604800 s) reached while the endpoint was still working on it',
    reason: 'max_age (604800 s) reached while the endpoint was still working on it',
  });
});
