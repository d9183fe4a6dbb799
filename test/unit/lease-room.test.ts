import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseRoom, NEW_LANE_ROOM } from '../../src/pipeline/delivery/lease-room.js';
import { sweepEveryMs } from '../../src/pipeline/workers.js';

test('a lease takes what the lanes can start soon: one wave queued per lane, a few for new lanes', () => {
  assert.equal(leaseRoom([]), NEW_LANE_ROOM);
  // concurrency 10, all running, nothing queued: room for one more wave
  assert.equal(leaseRoom([{ running: 10, queued: 0, limit: 10 }]), NEW_LANE_ROOM + 10);
  // a wave queued already: nothing more for that lane
  assert.equal(leaseRoom([{ running: 10, queued: 10, limit: 10 }]), NEW_LANE_ROOM);
  assert.equal(leaseRoom([{ running: 10, queued: 40, limit: 10 }]), NEW_LANE_ROOM);
  // a lane whose mapping is still being read counts for nothing
  assert.equal(leaseRoom([{ running: 0, queued: 3, limit: undefined }]), NEW_LANE_ROOM);
  assert.equal(
    leaseRoom([
      { running: 1, queued: 0, limit: 1 },
      { running: 64, queued: 0, limit: 64 },
    ]),
    NEW_LANE_ROOM + 1 + 64,
  );
});

test('expired leases are swept every sixth of the lease, between 1 s and 15 s', () => {
  assert.equal(sweepEveryMs(30_000), 5_000);
  assert.equal(sweepEveryMs(3_000), 1_000);
  assert.equal(sweepEveryMs(600_000), 15_000);
});
