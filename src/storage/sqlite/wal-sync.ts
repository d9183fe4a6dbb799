import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Durable commits without blocking the event loop.
 *
 * better-sqlite3 is synchronous: with `synchronous=FULL` every COMMIT waits for the disk's fsync
 * on the event-loop thread, and no HTTP is served meanwhile (a third of a push's cost here, and
 * every fsync stall of the disk became a stall of the whole hub). Instead the connection runs with
 * `synchronous=NORMAL` — a COMMIT appends its WAL frames to the page cache and returns — and this
 * class makes those frames durable with `fdatasync` on the WAL file, run on libuv's thread pool.
 * Storage calls that wrote resolve only after such a sync (see dialect.ts; its unsynced twin,
 * used by pushes and intake to hand copies over at COMMIT, leaves the wait to its caller), so
 * what a caller is told is committed — a push answered 201, a settled delivery — is on disk
 * exactly as with FULL, which fsyncs the same file at the same point. Recovery after a power cut keeps every WAL frame
 * up to the last valid commit record, so the synced commits survive and later ones roll back.
 *
 * Syncs coalesce: while one is running, every caller that arrives shares the next one, which
 * starts when the running one ends (it must start after the caller's COMMIT to cover it). Under
 * load one fdatasync covers many group commits, and commits continue while it runs.
 *
 * Linux flushes a file's dirty pages whichever descriptor wrote them, so our own descriptor on
 * the `-wal` file covers SQLite's writes. The WAL file exists from the first write of the
 * connection until the last connection to the database closes; checkpoints reset it in place
 * (same inode). The directory is synced once, when the descriptor is first opened, so that a
 * newly created WAL file's name is durable too.
 */
export class WalSyncer {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private closed = false;
  /** Called with each fdatasync's duration in seconds (metrics). */
  observe: ((seconds: number) => void) | undefined;

  /** `datasync` is fs.fdatasync; a test passes a wrapper around it to count and delay syncs. */
  constructor(
    private readonly walFile: string,
    private readonly datasync: typeof fdatasync = fdatasync,
  ) {}

  /**
   * Set by the first failed fdatasync, for good. After a failed sync the kernel may have dropped
   * the dirty WAL pages it could not write, leaving a hole that a later "successful" sync would
   * not fill: recovery would stop at the hole and lose later commits too. So, as PostgreSQL does,
   * no write is acknowledged again by this process; a restart recovers from what is on disk.
   */
  private failed: Error | undefined;

  /** The failure that ended acknowledgements for good, if one happened. */
  get error(): Error | undefined {
    return this.failed;
  }

  /** Resolves when every write committed before this call is on stable storage. */
  sync(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const after = this.running.then(
      () => undefined,
      () => undefined,
    );
    const next = after.then(() => {
      this.next = undefined;
      return this.start();
    });
    this.next = next;
    return next;
  }

  private start(): Promise<void> {
    const run = this.flush().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async flush(): Promise<void> {
    // a sync queued behind the one that failed must fail too: a new fdatasync on the same file
    // would usually succeed (the error was already reported) and acknowledge commits behind the hole
    if (this.failed) throw this.failed;
    if (this.closed) return;
    const fd = this.open();
    if (fd === undefined) return;
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      this.datasync(fd, (err) => {
        if (!err) return resolve();
        this.failed ??= new Error(
          `the disk failed to sync the SQLite WAL (${err.code ?? err.message}); no further write ` +
            'is acknowledged by this process: restart the hub to recover from what is on disk',
          { cause: err },
        );
        reject(this.failed);
      });
    });
    this.observe?.((performance.now() - started) / 1000);
  }

  private open(): number | undefined {
    if (this.fd !== undefined) return this.fd;
    try {
      this.fd = openSync(this.walFile, 'r');
    } catch (err) {
      // no WAL yet means nothing was ever written through this database file
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const dir = openSync(dirname(this.walFile), 'r');
    try {
      fsyncSync(dir); // once per process
    } finally {
      closeSync(dir);
    }
    return this.fd;
  }

  /** Waits for the syncs in flight, then closes the descriptor. */
  async close(): Promise<void> {
    await this.next?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
