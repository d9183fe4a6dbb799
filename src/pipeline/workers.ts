import type { Logger } from 'pino';
import type { Metrics } from '../http/metrics.js';
import type { Storage } from '../storage/contract.js';
import { DeliveryEngine, type EngineOptions } from './delivery/engine.js';
import { Intake, type Router } from './intake.js';
import { WorkerLoop } from './loop.js';
import { SchedulerRunner } from './scheduler.js';
import type { MessageValidator } from './validation.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 15_000;

export interface WorkerOptions {
  /** How long shutdown waits for in-flight deliveries before aborting them. */
  shutdownGraceMs?: number;
  /** Fallback poll of the delivery loop (due retries, other processes' work). */
  deliveryPollMs?: number;
  /** How often expired leases are returned to pending. */
  sweepEveryMs?: number;
  engine?: EngineOptions;
  metrics?: Metrics;
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
    const intake = new Intake(storage, router, validator, () => this.delivery.wake(), options.metrics);
    this.intakeStage = intake;
    this.intake = new WorkerLoop('intake', () => intake.step(), log, { pollMs: 1000 });
    this.engine = new DeliveryEngine(
      storage,
      log.child({ component: 'delivery' }),
      { capacity: () => this.delivery.wake(), incoming: () => this.intake.wake() },
      options.engine,
      options.metrics,
    );
    this.delivery = new WorkerLoop('delivery', () => this.engine.step(), log, {
      pollMs: options.deliveryPollMs ?? 1000,
    });
    this.sweeper = new WorkerLoop(
      'lease-sweeper',
      async () => {
        if ((await storage.sweepLeases(Date.now())) > 0) this.delivery.wake();
        return 0;
      },
      log,
      { pollMs: options.sweepEveryMs ?? SWEEP_EVERY_MS },
    );
    this.housekeeping = new WorkerLoop(
      'housekeeping',
      async () => {
        await storage.purgeIdempotencyKeys(Date.now() - IDEMPOTENCY_WINDOW_MS);
        return 0;
      },
      log,
      { pollMs: 60_000 },
    );
    const scheduler = new SchedulerRunner(storage, () => this.intake.wake(), log);
    this.scheduler = new WorkerLoop('scheduler', () => scheduler.step(), log, { pollMs: 250 });
  }

  /** A store's mappings changed through this process: stop using cached copies of them. */
  mappingsChanged(storeId: string): void {
    this.engine.forgetMappings(storeId);
  }

  start(): void {
    // Push-time routing and the copy handover need to know that nothing older waits in the queues
    // (intake.ts, engine.ts): only a one-process hub (SQLite) knows that. With PostgreSQL another
    // process may hold a backlog, or pending copies, this one cannot see.
    if (this.storage.dialect === 'sqlite') {
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
