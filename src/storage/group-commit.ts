/**
 * What a commit may return instead of plain results: the results, and a promise that settles
 * when the commit is durable. The callers are answered only then; meanwhile the next batch may
 * already commit (see `overlapBelow`).
 */
export interface Committed<R> {
  results: R[];
  durable: Promise<void>;
}

/**
 * Group commit: many concurrent callers share one database transaction, and each caller's promise
 * settles only after that transaction has committed (or failed). While one batch is being
 * committed the next one fills up, so under load a commit carries hundreds of rows; with one
 * caller it adds a single setImmediate of latency.
 *
 * A commit that returns `Committed` has two phases, COMMIT and then the disk sync. While a batch
 * of fewer than `overlapBelow` items waits for its sync, the next batch may commit at once: the
 * load is light, nothing is gained by holding the callers, and their commit — with whatever it
 * hands on, such as deliveries — no longer waits behind the disk (one slow fdatasync used to
 * delay every push behind it by its whole length). After a larger batch the next one fills up
 * until the sync is over, as after a single-phase commit: under a heavy load, fewer and larger
 * transactions. (The queue's length at COMMIT says nothing about the load: a transaction runs in
 * one event-loop turn, so no request arrives during it.) Syncs coalesce (wal-sync.ts), so
 * overlapping batches share them. Pushes overlap at every size (sql-ingest.ts, measured there).
 */
export class GroupCommitter<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private scheduled = false;
  /** Batches committed and waiting for their sync. */
  private syncing = 0;

  /**
   * @param lingerMs how long the first item of a batch may wait for others (0: one event-loop
   *   turn). A short linger trades a little latency for fewer, larger transactions.
   * @param overlapBelow batch size below which the next batch need not wait for this one's sync
   *   (see the class comment; 0: never overlap).
   */
  constructor(
    private readonly commit: (items: T[]) => Promise<R[] | Committed<R>>,
    private readonly maxBatch = 500,
    private readonly lingerMs = 0,
    private readonly overlapBelow = 0,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    if (this.lingerMs > 0 && this.queue.length < this.maxBatch) setTimeout(go, this.lingerMs);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const out = await this.commit(batch.map((b) => b.item));
      if (Array.isArray(out)) {
        for (const [i, b] of batch.entries()) b.resolve(out[i] as R);
        return;
      }
      const answered = out.durable.then(
        () => {
          for (const [i, b] of batch.entries()) b.resolve(out.results[i] as R);
        },
        (err) => {
          for (const b of batch) b.reject(err);
        },
      );
      const settled = answered.finally(() => {
        this.syncing--;
      });
      this.syncing++;
      // light load: let the next batch commit now; heavy load: let it grow during the sync
      if (batch.length >= this.overlapBelow) await settled;
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Resolves once everything submitted so far has been committed or failed, and answered. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.scheduled || this.syncing > 0) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
