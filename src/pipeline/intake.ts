import type { Metrics } from '../http/metrics.js';
import type { IntakeDecision, MessageRecord, Storage } from '../storage/contract.js';
import type { MessageValidator } from './validation.js';

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
  constructor(
    private readonly storage: Storage,
    private readonly router: Router,
    private readonly validator: MessageValidator,
    private readonly onAccepted: () => void,
    private readonly metrics?: Metrics,
  ) {}

  async step(): Promise<number> {
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
