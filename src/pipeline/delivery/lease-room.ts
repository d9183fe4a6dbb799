/**
 * How far ahead a process leases (docs/design.md, "Leases"; docs/cluster.md, "Takeover").
 *
 * A leased copy is this process's until it settles it or its lease expires. A copy that waits in
 * a lane's queue is not being sent, yet no other process may send it: if this one dies, it waits
 * for the lease to run out and the sweeper to hand it back. So a lease takes no more than the
 * lanes can start soon: for each lane whose mapping is known, its concurrency once more on top
 * of what runs and waits (one wave queued behind the running one, so a busy lane never idles
 * while the next lease statement runs), plus a few copies for mappings with no lane yet. A lease
 * used to take up to its batch (100) whatever the lanes could send: a killed worker held 69
 * copies of a mapping of concurrency 10, and the 59 it had not started waited for the takeover.
 */

/** Copies a lease may take beyond the known lanes' room: for mappings that have no lane yet. */
export const NEW_LANE_ROOM = 16;

export interface LaneLoad {
  running: number;
  queued: number;
  /** The mapping's concurrency, once the lane has read its mapping. */
  limit: number | undefined;
}

/** The most copies this process should lease now, given its lanes (before its free slots). */
export function leaseRoom(lanes: Iterable<LaneLoad>): number {
  let room = NEW_LANE_ROOM;
  for (const lane of lanes) {
    if (lane.limit === undefined) continue; // its copies wait for their mapping: no more for now
    room += Math.max(0, 2 * lane.limit - lane.running - lane.queued);
  }
  return room;
}
