import type { Logger } from 'pino';
import { isConnectionLost } from '../storage/connection-lost.js';

/** After this long without a working connection, a lost connection is logged as an error. */
export const UNRECOVERED_MS = 30_000;

/**
 * How a lost database connection is logged: a hub recovers from a cut connection by itself (the
 * pool opens a new one on the next query; the LISTEN client reconnects), so a loss is one warn
 * line and its recovery one info line with how long it took. Only a loss that lasts
 * UNRECOVERED_MS becomes an error (again every UNRECOVERED_MS while it lasts). States: connected →
 * lost (warned) → connected (info) | still lost (error).
 */
export class ConnectionWatch {
  private lostAt: number | undefined;
  private errorAt = 0;

  constructor(
    private readonly log: Logger,
    /** Which connection, for the log: `pool` or `listen`. */
    private readonly connection: string,
    private readonly unrecoveredMs = UNRECOVERED_MS,
  ) {}

  /** A step failed: true if it was a lost connection (now logged here), false for any other error. */
  failed(err: unknown, now = Date.now()): boolean {
    if (!isConnectionLost(err)) return false;
    this.lost(err, now);
    return true;
  }

  /** The connection is gone, whatever the error says (the LISTEN client ended, say). */
  lost(err: unknown, now = Date.now()): void {
    const reason = (err as Error | undefined)?.message ?? String(err);
    if (this.lostAt === undefined) {
      this.lostAt = now;
      this.errorAt = now;
      this.log.warn({ connection: this.connection, reason }, 'lost connection to PostgreSQL, reconnecting');
    } else if (now - this.errorAt >= this.unrecoveredMs) {
      this.errorAt = now;
      const downMs = now - this.lostAt;
      this.log.error(
        { err, connection: this.connection, down_ms: downMs },
        `no connection to PostgreSQL for ${Math.round(downMs / 1000)} s; still retrying`,
      );
    }
  }

  /** Something worked again: a loss in progress has recovered. */
  succeeded(now = Date.now()): void {
    if (this.lostAt === undefined) return;
    const downMs = now - this.lostAt;
    this.lostAt = undefined;
    this.log.info({ connection: this.connection, down_ms: downMs }, `reconnected after ${downMs} ms`);
  }
}
