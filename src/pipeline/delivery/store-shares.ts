/**
 * How a process's delivery slots are shared between stores (docs/security.md, "Fair delivery").
 *
 * A slot held by a hung endpoint is held until the request times out: a share cannot be taken
 * back once given, so fairness has to be decided when a delivery starts. The rule: a store may
 * hold at most half of the slots the other stores leave, and never fewer than MIN_SHARE.
 * One busy store alone gets half the slots (128 of 256); a second store arriving while they hang
 * finds the other half free and may take half of it; a third, half of what is left; and so on.
 * So there are always free slots for the next store, and no store, however many mappings it has
 * or however slow its endpoints, holds more than half a process. A store below its share starts
 * deliveries at once; the copies of a store at its share wait in their lanes, leased, until one
 * of its own deliveries ends or the others' shrink.
 */
export const MIN_SHARE = 4;

export class StoreShares {
  private readonly running = new Map<string, number>();
  private total = 0;

  constructor(private readonly slots: number) {}

  /** The most deliveries `storeId` may have in flight now. */
  shareOf(storeId: string): number {
    const others = this.total - (this.running.get(storeId) ?? 0);
    return Math.max(MIN_SHARE, Math.floor((this.slots - others) / 2));
  }

  mayStart(storeId: string): boolean {
    return (this.running.get(storeId) ?? 0) < this.shareOf(storeId);
  }

  started(storeId: string): void {
    this.running.set(storeId, (this.running.get(storeId) ?? 0) + 1);
    this.total++;
  }

  ended(storeId: string): void {
    const left = (this.running.get(storeId) ?? 1) - 1;
    if (left <= 0) this.running.delete(storeId);
    else this.running.set(storeId, left);
    this.total--;
  }
}
