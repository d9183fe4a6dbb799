import type { IntakeDecision, MessageRecord, Storage } from '../storage/contract.js';

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
 * The intake stage: takes pending incoming messages oldest first, asks the router for each one's
 * copies, and lets storage apply the decisions atomically (copies, identifier keys and the archive
 * of the incoming message, or nothing). Returns the number of messages processed, for the loop.
 */
export class Intake {
  constructor(
    private readonly storage: Storage,
    private readonly router: Router,
    private readonly onAccepted: () => void,
  ) {}

  async step(): Promise<number> {
    let accepted = 0;
    const n = await this.storage.intake(
      INTAKE_BATCH,
      async (batch) => {
        const decisions = await this.router.route(batch, Date.now());
        for (const d of decisions) accepted += d.copies.length;
        return decisions;
      },
      Date.now(),
    );
    if (accepted > 0) this.onAccepted();
    return n;
  }
}
