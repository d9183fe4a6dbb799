import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { Storage } from '../storage/contract.js';
import { ConnectionWatch } from './connection-watch.js';
import { DeliveryEngine, type EngineOptions } from './delivery/engine.js';
import { Intake, type Router } from './intake.js';
import { WorkerLoop } from './loop.js';
import type { MessageValidator } from './message-validation.js';
import { SchedulerRunner } from './scheduler.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Retention deletes this many archived messages a transaction, … */
const PURGE_BATCH = 500;
/** … with this pause between batches, for at most this long a housekeeping round (then a poll). */
const PURGE_PAUSE_MS = 100;
const PURGE_ROUND_MS = 5_000;
/**
 * How often expired leases go back to pending: a sixth of the lease, between 1 s and 15 s (5 s at
 * the default 30 s lease). A dead process's copies wait for their lease to run out and then at
 * most this long, so a takeover takes at most lease + lease/6 (docs/cluster.md, "Takeover"). The
 * sweep is one indexed UPDATE that finds nothing on a healthy hub.
 */
export function sweepEveryMs(leaseMs: number): number {
  return Math.min(15_000, Math.max(1_000, Math.round(leaseMs / 6)));
}

export interface WorkerOptions {
  /** How long shutdown waits for in-flight deliveries before aborting them. */
  shutdownGraceMs?: number;
  /** Fallback poll of the delivery loop (due retries, other processes' work). */
  deliveryPollMs?: number;
  /** How often expired leases are returned to pending. */
  sweepEveryMs?: number;
  engine?: EngineOptions;
  metrics?: Metrics;
  /** Archived messages are purged once archived this long (retention; default: never). */
  retentionMs?: number;
  /** How often housekeeping (retention, idempotency keys) runs. */
  housekeepingEveryMs?: number;
}

/**
 * The background workers of a hub process and how they wake each other:
 *   push ──wake──► intake ──wake (copies made)──► delivery ──wake (capacity freed)──► delivery
 *   scheduler (tick pushed) ──wake──► intake
 * Each also polls as a fallback, so work that only becomes due with time (a retry, a scheduled
 * poll) or arrives through another process is picked up within the poll interval.
 */
export class Workers {
  readonly intake: WorkerLoop;
  readonly delivery: WorkerLoop;
  private readonly sweeper: WorkerLoop;
  private readonly housekeeping: WorkerLoop;
  readonly scheduler: WorkerLoop;
  private readonly engine: DeliveryEngine;
  private readonly intakeStage: Intake;

  constructor(
    private readonly storage: Storage,
    router: Router,
    validator: MessageValidator,
    log: Logger,
    private readonly options: WorkerOptions = {},
  ) {
    // one watch for all loops: a cut connection is one warn line and one "reconnected" line
    const connection = new ConnectionWatch(log, 'pool');
    const intake = new Intake(storage, router, validator, () => this.delivery.wake(), options.metrics);
    this.intakeStage = intake;
    this.intake = new WorkerLoop('intake', () => intake.step(), log, { pollMs: 1000, connection });
    this.engine = new DeliveryEngine(
      storage,
      log.child({ component: 'delivery' }),
      { capacity: () => this.delivery.wake(), incoming: () => this.intake.wake() },
      options.engine,
      options.metrics,
    );
    this.delivery = new WorkerLoop('delivery', () => this.engine.step(), log, {
      pollMs: options.deliveryPollMs ?? 1000,
      connection,
    });
    this.sweeper = new WorkerLoop(
      'lease-sweeper',
      async () => {
        if ((await storage.sweepLeases(Date.now())) > 0) this.delivery.wake();
        return 0;
      },
      log,
      { pollMs: options.sweepEveryMs ?? sweepEveryMs(options.engine?.leaseMs ?? 30_000), connection },
    );
    const retentionMs = options.retentionMs;
    this.housekeeping = new WorkerLoop(
      'housekeeping',
      async () => {
        await storage.purgeIdempotencyKeys(Date.now() - IDEMPOTENCY_WINDOW_MS);
        if (retentionMs !== undefined) await purgeArchive(storage, Date.now() - retentionMs, log);
        return 0;
      },
      log,
      { pollMs: options.housekeepingEveryMs ?? 60_000, connection },
    );
    const scheduler = new SchedulerRunner(storage, () => this.intake.wake(), log);
    this.scheduler = new WorkerLoop('scheduler', () => scheduler.step(), log, {
      pollMs: 250,
      connection,
    });
  }

  /** The delivery engine's circuit breakers (state and reset, for the API). */
  get circuits() {
    return this.engine.circuits;
  }

  /** A store's mappings changed through this process: stop using cached copies of them. */
  mappingsChanged(storeId: string): void {
    this.engine.forgetMappings(storeId);
    void this.engine.abortDeleted(storeId).catch(() => {
      // a failed read leaves the deliveries to run to their end, as before
    });
  }

  start(): void {
    // Push-time routing and the copy handover need to know that nothing older waits in the queues
    // (intake.ts, engine.ts): only the one process on its database (SQLite) knows that. With
    // several (PostgreSQL) another may hold a backlog, or pending copies, this one cannot see.
    if (this.storage.database.singleProcess) {
      this.storage.routePushes(this.intakeStage.pushRouting());
      this.storage.handOverCopies(this.engine.handover());
    }
    for (const loop of [this.intake, this.delivery, this.sweeper, this.housekeeping]) loop.start();
    this.scheduler.start();
  }

  /** Stop taking work, let in-flight deliveries finish (bounded), then stop every loop. */
  async stop(): Promise<void> {
    this.storage.routePushes(undefined);
    this.storage.handOverCopies(undefined);
    await Promise.all([
      this.intake.stop(),
      this.delivery.stop(),
      this.sweeper.stop(),
      this.housekeeping.stop(),
      this.scheduler.stop(),
    ]);
    await this.engine.stop(this.options.shutdownGraceMs ?? 10_000);
  }
}

/**
 * One housekeeping round of retention: batches of PURGE_BATCH with a pause between, so a large
 * archive that just fell out of retention (or a lowered setting) goes over minutes in the
 * background — at most ~5,000 rows a second, ~5 s a minute — instead of one long transaction.
 */
async function purgeArchive(storage: Storage, before: number, log: Logger): Promise<void> {
  const started = Date.now();
  let total = 0;
  for (;;) {
    const n = await storage.purgeArchived(before, PURGE_BATCH);
    total += n;
    if (n < PURGE_BATCH || Date.now() - started > PURGE_ROUND_MS) break;
    await new Promise((r) => setTimeout(r, PURGE_PAUSE_MS));
  }
  if (total > 0)
    log.info({ purged: total, before: new Date(before).toISOString() }, 'archived messages purged');
}
