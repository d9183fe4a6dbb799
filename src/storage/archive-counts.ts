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

/**
 * The archive counts of each store (see ArchiveCountPolicy). A store's entry goes through three
 * states: none (count on every call), `kept` (a count to answer until `until`), and, for a store
 * whose last count was large, `counting` (a count under way that callers arriving meanwhile share
 * instead of starting their own: on SQLite's one reader thread they would queue up one behind
 * the other, each counting the same rows). Times are milliseconds of a monotonic clock.
 */
export class ArchiveCounts {
  private readonly stores = new Map<string, { n: number; until: number; counting?: Promise<number> }>();

  constructor(private readonly policy: ArchiveCountPolicy = ARCHIVE_COUNT_POLICY) {}

  /** A figure that may be answered at `now` without counting: a recent count, or one under way. */
  reusable(storeId: string, now: number): number | Promise<number> | undefined {
    const entry = this.stores.get(storeId);
    if (!entry) return undefined;
    if (now < entry.until) return entry.n;
    return entry.counting;
  }

  /**
   * A count has started at `startedAt`. Callers arriving before it ends share it if the store's
   * archive was large at its last count; a small archive's callers each count (each sees what was
   * archived before its own call).
   */
  counting(storeId: string, count: Promise<number>, startedAt: number, now: () => number): Promise<number> {
    const entry = this.stores.get(storeId);
    const shared = count.then(
      (n) => {
        this.counted(storeId, n, startedAt, now());
        return n;
      },
      (err: unknown) => {
        const current = this.stores.get(storeId);
        if (current?.counting === shared) current.counting = undefined;
        throw err;
      },
    );
    if (entry) entry.counting = shared;
    return shared;
  }

  /** A count just made, read from `startedAt` to `now`. */
  counted(storeId: string, n: number, startedAt: number, now: number): void {
    if (n < this.policy.fromRows) {
      this.stores.delete(storeId);
      return;
    }
    const cost = Math.max(0, now - startedAt);
    this.stores.set(storeId, { n, until: now + Math.min(cost * this.policy.factor, this.policy.maxMs) });
  }
}
