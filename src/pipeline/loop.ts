import type { Logger } from 'pino';
import type { ConnectionWatch } from './connection-watch.js';

export interface LoopOptions {
  /** Fallback poll when nothing wakes the loop (work that became due, another process's work). */
  pollMs: number;
  /** Longest pause after consecutive failures. */
  maxBackoffMs?: number;
  /** Logs a lost database connection (shared by a process's loops); other failures log here. */
  connection?: ConnectionWatch;
}

/**
 * A background worker: runs `step` while it reports work done, then sleeps until `wake()` or the
 * poll interval. States: idle (sleeping) → running (stepping) → idle, and stopping → stopped.
 * A failing step is logged and retried after a doubling pause, so a database outage neither
 * spins the CPU nor kills the worker; a lost connection is logged by the shared ConnectionWatch.
 */
export class WorkerLoop {
  private running = false;
  private done: Promise<void> | undefined;
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private woken = false;

  constructor(
    readonly name: string,
    private readonly step: () => Promise<number>,
    private readonly log: Logger,
    private readonly options: LoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.run();
  }

  wake(): void {
    this.woken = true;
    const sleeper = this.sleeper;
    if (sleeper) {
      clearTimeout(sleeper.timer);
      this.sleeper = undefined;
      sleeper.resolve();
    }
  }

  /** Stops after the current step finishes. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.done;
  }

  get active(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.woken = false;
      let worked = 0;
      try {
        worked = await this.step();
        failures = 0;
        this.options.connection?.succeeded();
      } catch (err) {
        failures++;
        if (!this.options.connection?.failed(err))
          this.log.error({ err, worker: this.name, failures }, 'worker step failed');
        const pause = Math.min(this.options.pollMs * 2 ** failures, this.options.maxBackoffMs ?? 5000);
        await this.sleep(pause);
        continue;
      }
      if (worked > 0) {
        // let HTTP requests and other workers in between batches
        await new Promise((r) => setImmediate(r));
      } else if (!this.woken) {
        await this.sleep(this.options.pollMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = { timer, resolve };
    });
  }
}
