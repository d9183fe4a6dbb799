/**
 * How long the `archived` figure of `GET …/queues` may be reused. That figure is an exact count,
 * a walk of one index entry per archived message: 80–120 ms a million on SQLite (on the reader
 * thread), comparable on PostgreSQL. A dashboard that polls the counts every second, or ten
 * dashboards, would keep a core counting the same rows over and over. A count of a large archive
 * is therefore reused for a time proportional to what it cost — `factor` times as long — so at
 * most about 1/factor of the time goes to counting however many clients poll, and the figure lags
 * by at most that time. A small archive (under `fromRows`) is counted every time: it costs little
 * and a test or a script reading the counts right after a change sees it.
 */
export interface ArchiveCountPolicy {
  /** Counts of fewer archived messages are never reused. */
  fromRows: number;
  /** A count is reused for this many times what it cost… */
  factor: number;
  /** …but never longer than this. */
  maxMs: number;
}

export const ARCHIVE_COUNT_POLICY: ArchiveCountPolicy = { fromRows: 100_000, factor: 20, maxMs: 10_000 };

/** The archive counts of each store still fit for reuse (see ArchiveCountPolicy). */
export class ArchiveCounts {
  private readonly counts = new Map<string, { n: number; until: number }>();

  constructor(private readonly policy: ArchiveCountPolicy = ARCHIVE_COUNT_POLICY) {}

  /** A count that may still be answered at `now`, if there is one. */
  reusable(storeId: string, now: number): number | undefined {
    const kept = this.counts.get(storeId);
    if (!kept) return undefined;
    if (now < kept.until) return kept.n;
    this.counts.delete(storeId);
    return undefined;
  }

  /** A count just made, read from `startedAt` to `now`. */
  counted(storeId: string, n: number, startedAt: number, now: number): void {
    if (n < this.policy.fromRows) {
      this.counts.delete(storeId);
      return;
    }
    const cost = Math.max(0, now - startedAt);
    this.counts.set(storeId, { n, until: now + Math.min(cost * this.policy.factor, this.policy.maxMs) });
  }
}
