/**
 * Group commit: many concurrent callers share one database transaction, and each caller's promise
 * settles only after that transaction has committed (or failed). While one batch is being
 * committed the next one fills up, so under load a commit carries hundreds of rows; with one
 * caller it adds a single setImmediate of latency.
 */
export class GroupCommitter<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private scheduled = false;

  /**
   * @param lingerMs how long the first item of a batch may wait for others (0: one event-loop
   *   turn). A short linger trades a little latency for fewer, larger transactions.
   */
  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 500,
    private readonly lingerMs = 0,
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
      const results = await this.commit(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(results[i] as R);
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Resolves once everything submitted so far has been committed or failed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.scheduled) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
