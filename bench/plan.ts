import type { IngestPlan } from './ingest.js';
import type { DrainPlan } from './phases.js';
import type { RoutingBenchOptions } from './routing.js';
import type { StorageAloneOptions } from './storage-alone.js';

export interface BenchPlan {
  ingest: IngestPlan;
  /** Rounds of alternation between the subjects (see phases.ts). */
  ingestRounds: number;
  drain: DrainPlan;
  drainRounds: number;
  latency: { rate: number; seconds: number };
  listing: { seconds: number; connections: number };
  browse: { everyMs: number };
  archiveRows: number;
  routing: RoutingBenchOptions;
  storageAlone: StorageAloneOptions;
  profile: boolean;
  archive: boolean;
  postgres: boolean;
  /** Bound on any one wait (a drain, a load run). */
  timeoutMs: number;
  /** The whole run is abandoned (children killed) past this. */
  budgetSeconds: number;
}

/**
 * Counts and durations. Full: about 6 minutes on the 2-core machine; quick: about 1 minute, one
 * round of everything, for a smoke test of the harness and a rough figure (noisier, less warm).
 */
export function planFor(
  quick: boolean,
  switches: { profile: boolean; archive: boolean; postgres: boolean },
): BenchPlan {
  const timeoutMs = quick ? 60_000 : 180_000;
  return {
    ingest: quick
      ? { warmupSeconds: 1, seconds: 2, connections: 100, maxRequests: 200_000 }
      : { warmupSeconds: 3, seconds: 5, connections: 100, maxRequests: 400_000 },
    ingestRounds: quick ? 1 : 3,
    drain: quick
      ? { warmup: 500, messages: 6000, connections: 64, concurrency: 64, undiciMessages: 5000, timeoutMs }
      : {
          warmup: 2000,
          messages: 15_000,
          connections: 64,
          concurrency: 64,
          undiciMessages: 40_000,
          timeoutMs,
        },
    drainRounds: quick ? 1 : 3,
    latency: { rate: 500, seconds: quick ? 3 : 10 },
    listing: { seconds: quick ? 2 : 5, connections: 1 },
    browse: { everyMs: 500 },
    archiveRows: quick ? 100_000 : 1_000_000,
    routing: quick ? { messages: 5000, runs: 2 } : { messages: 20_000, runs: 2 },
    storageAlone: quick
      ? { pushes: 50_000, concurrency: 100, messages: 6000 }
      : { pushes: 200_000, concurrency: 100, messages: 30_000 },
    ...switches,
    timeoutMs,
    budgetSeconds: quick ? 240 : 900,
  };
}
