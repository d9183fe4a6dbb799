import type { Metrics } from '../metrics.js';
import type { IntakeDecision, MessageRecord, PushRouting, Storage } from '../storage/contract.js';
import type { MessageValidator } from './message-validation.js';

/** Decides, for a batch of incoming messages, which mappings take a copy of each. */
export interface Router {
  route(batch: MessageRecord[], now: number): IntakeDecision[] | Promise<IntakeDecision[]>;
}

/** The router of a hub with no mappings: every message is archived as skipped. */
export const noRouter: Router = {
  route: (batch) => batch.map((m) => ({ id: m.id, copies: [], reason: 'no mapping' })),
};

export const INTAKE_BATCH = 200;

/**
 * The intake stage: takes pending incoming messages oldest first, validates those that did not
 * come through the push API (which rejects bad payloads up front), asks the router for each valid
 * one's copies, and lets storage apply the decisions atomically (copies, identifier keys and the
 * archive of the incoming message, or nothing). Returns the number of messages processed.
 */
export class Intake {
  /**
   * Whether the incoming queue may hold messages older than a push arriving now. Push-time routing
   * (pushRouting) is offered only while it is false, so a routed push never overtakes an older
   * push still waiting for intake. It starts true (a restart may find a backlog), becomes false when
   * a step finds fewer messages than a full batch and no push was queued meanwhile, and true again
   * whenever pushes are queued instead of routed.
   */
  private backlog = true;
  private stepping = false;
  /** Counts commits that queued pushes; a step compares it before and after. */
  private deferrals = 0;

  constructor(
    private readonly storage: Storage,
    private readonly router: Router,
    private readonly validator: MessageValidator,
    private readonly onAccepted: () => void,
    private readonly metrics?: Metrics,
  ) {}

  /** Push-time routing for a one-process hub (see PushRouting); the workers install it. */
  pushRouting(): PushRouting {
    return {
      ready: () => !this.stepping && !this.backlog,
      // pushes were validated by the push API: route them as they are
      decide: (batch) => this.router.route(batch, Date.now()),
      applied: (decisions) => {
        let accepted = 0;
        for (const d of decisions) {
          accepted += d.copies.length;
          this.metrics?.routed.inc({ result: d.copies.length > 0 ? 'routed' : 'skipped' });
        }
        if (accepted > 0) this.onAccepted();
      },
      deferred: () => {
        this.deferrals++;
        this.backlog = true;
      },
    };
  }

  async step(): Promise<number> {
    this.stepping = true;
    const deferralsBefore = this.deferrals;
    try {
      const n = await this.routeBatch();
      this.backlog = n >= INTAKE_BATCH || this.deferrals !== deferralsBefore;
      return n;
    } finally {
      this.stepping = false;
    }
  }

  private async routeBatch(): Promise<number> {
    let accepted = 0;
    const n = await this.storage.intake(
      INTAKE_BATCH,
      async (batch) => {
        const invalid: IntakeDecision[] = [];
        const valid: MessageRecord[] = [];
        for (const m of batch) {
          const reason = m.origin === 'push' ? null : await this.invalidReason(m);
          if (reason) invalid.push({ id: m.id, invalid: reason, copies: [] });
          else valid.push(m);
        }
        const decisions = valid.length > 0 ? await this.router.route(valid, Date.now()) : [];
        for (const d of decisions) accepted += d.copies.length;
        if (this.metrics) {
          this.metrics.routed.inc({ result: 'invalid' }, invalid.length);
          for (const d of decisions)
            this.metrics.routed.inc({
              result: d.invalid ? 'invalid' : d.copies.length > 0 ? 'routed' : 'skipped',
            });
        }
        return [...invalid, ...decisions];
      },
      Date.now(),
    );
    if (accepted > 0) this.onAccepted();
    return n;
  }

  private async invalidReason(m: MessageRecord): Promise<string | null> {
    const issues = await this.validator.validate(m.store_id, m.message, JSON.parse(m.payload));
    if (issues.length === 0) return null;
    return `invalid payload: ${issues.map((i) => `${i.pointer} ${i.message}`).join('; ')}`;
  }
}
