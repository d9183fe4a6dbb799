/**
 * How a process's delivery slots are shared between stores, and within a store between the
 * endpoint origins it delivers to (docs/security.md, "Fair delivery").
 *
 * A slot held by a hung endpoint is held until the request times out: a share cannot be taken
 * back once given, so fairness has to be decided when a delivery starts. The rule, at both
 * levels: one may hold at most half of what the others leave, and never fewer than MIN_SHARE.
 *
 * - Stores: one busy store alone gets half the slots (128 of 256); a second store arriving while
 *   they hang finds the other half free and may take half of it; a third, half of what is left.
 *   So there are always free slots for the next store, and no store, however many mappings it
 *   has or however slow its endpoints, holds more than half a process.
 * - Origins within a store (scheme, host, port): the same rule inside the store's share, so one
 *   hung endpoint holds at most half of its store's share (64 of 128) and the store's other
 *   endpoints keep being served.
 *
 * A delivery below both shares starts at once; the copies of a store or origin at its share wait
 * in their lanes, leased, until one of its own deliveries ends or the others' shrink.
 */
export const MIN_SHARE = 4;

export class StoreShares {
  private readonly running = new Map<string, number>();
  private total = 0;

  constructor(private readonly slots: number) {}

  /** The most deliveries `storeId` may have in flight now. */
  shareOf(storeId: string): number {
    return half(this.slots, this.total - this.count(storeId));
  }

  /** The most deliveries the store may have in flight to `origin` now. */
  originShareOf(storeId: string, origin: string): number {
    const store = this.count(storeId);
    return half(this.shareOf(storeId), store - this.count(key(storeId, origin)));
  }

  mayStart(storeId: string, origin: string): boolean {
    return (
      this.count(storeId) < this.shareOf(storeId) &&
      this.count(key(storeId, origin)) < this.originShareOf(storeId, origin)
    );
  }

  started(storeId: string, origin: string): void {
    this.add(storeId, 1);
    this.add(key(storeId, origin), 1);
    this.total++;
  }

  ended(storeId: string, origin: string): void {
    this.add(storeId, -1);
    this.add(key(storeId, origin), -1);
    this.total--;
  }

  private count(k: string): number {
    return this.running.get(k) ?? 0;
  }

  private add(k: string, n: number): void {
    const next = this.count(k) + n;
    if (next <= 0) this.running.delete(k);
    else this.running.set(k, next);
  }
}

function key(storeId: string, origin: string): string {
  return `${storeId} ${origin}`;
}

/** Half of what the others leave of `slots`, and at least MIN_SHARE. */
function half(slots: number, others: number): number {
  return Math.max(MIN_SHARE, Math.floor((slots - others) / 2));
}
