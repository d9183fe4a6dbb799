/**
 * A circuit breaker per endpoint origin (scheme, host and port), in each process (docs/delivery.md,
 * "Circuit breaking"). An endpoint that is down answers every copy with an error, and each copy
 * retries on its own backoff: 100 queued copies made 133 calls in 15 s, and once the endpoint was
 * back each copy still waited out its own backoff. With the breaker:
 *
 *   closed ──THRESHOLD failures in a row──► open ──cool-down passed──► half-open (one probe)
 *     ▲                                       ▲                            │
 *     │                                       └──────probe failed──────────┤ (cool-down doubles,
 *     └───────────────── a success (the probe, or any delivery) ───────────┘  up to MAX)
 *
 * While open, the origin's copies are held where they are (in their lanes, leased; in the
 * database, due): not attempted, so no attempt is counted and the breaker parks nothing. A
 * failure is a connection error, a timeout or a 5xx; a 4xx is the endpoint answering, and a 429
 * has its own Retry-After. When the circuit closes, the copies that failed at this origin meanwhile
 * are made due at once (the engine does it: see `onClose`).
 */

/** The origin (scheme, host, port) a circuit and a share are kept for; an unparsable URL is its own. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  threshold: number;
  /** The first cool-down; each failed probe doubles it, up to maxCoolDownMs. */
  coolDownMs: number;
  maxCoolDownMs: number;
}

export const BREAKER_DEFAULTS: BreakerOptions = { threshold: 5, coolDownMs: 5_000, maxCoolDownMs: 60_000 };

export type BreakerState = 'closed' | 'open' | 'half-open';

interface Circuit {
  state: BreakerState;
  failures: number;
  /** When an open circuit may be probed. */
  until: number;
  coolDownMs: number;
  /** The mappings (store, mapping id) whose deliveries failed here since it opened. */
  members: Map<string, string>;
}

export interface BreakerEvents {
  opened(origin: string, failures: number, coolDownMs: number): void;
  /** `members`: mapping id → store id of the mappings that failed here while it was open. */
  closed(origin: string, members: Map<string, string>): void;
}

export class Breakers {
  private readonly circuits = new Map<string, Circuit>();
  private readonly options: BreakerOptions;

  constructor(
    private readonly events: BreakerEvents,
    options: Partial<BreakerOptions> = {},
  ) {
    this.options = { ...BREAKER_DEFAULTS, ...options };
  }

  /**
   * Whether a delivery to `origin` may start now: `yes`; `probe` (the one delivery of a half-open
   * circuit: report its result before any other starts); or `no`, with when to ask again.
   */
  admit(origin: string, now: number): { verdict: 'yes' | 'probe' } | { verdict: 'no'; retryAt: number } {
    const c = this.circuits.get(origin);
    if (!c || c.state === 'closed') return { verdict: 'yes' };
    if (c.state === 'open' && now >= c.until) {
      c.state = 'half-open';
      return { verdict: 'probe' };
    }
    return { verdict: 'no', retryAt: c.state === 'open' ? c.until : now + this.options.coolDownMs };
  }

  /** A delivery to `origin` ended; `ok` unless a connection error, a timeout or a 5xx. */
  result(origin: string, ok: boolean, storeId: string, mappingId: string, now: number): void {
    let c = this.circuits.get(origin);
    if (ok) {
      if (!c) return;
      this.circuits.delete(origin);
      if (c.state !== 'closed') this.events.closed(origin, c.members);
      return;
    }
    if (!c) {
      c = { state: 'closed', failures: 0, until: 0, coolDownMs: this.options.coolDownMs, members: new Map() };
      this.circuits.set(origin, c);
    }
    c.members.set(mappingId, storeId);
    if (c.state === 'half-open') {
      c.coolDownMs = Math.min(this.options.maxCoolDownMs, c.coolDownMs * 2);
      c.state = 'open';
      c.until = now + c.coolDownMs;
      this.events.opened(origin, c.failures, c.coolDownMs);
      return;
    }
    if (c.state === 'open') return; // a delivery that started before it opened
    c.failures++;
    if (c.failures >= this.options.threshold) {
      c.state = 'open';
      c.until = now + c.coolDownMs;
      this.events.opened(origin, c.failures, c.coolDownMs);
    }
  }

  /**
   * A delivery to `origin` ended without a result that tells anything (aborted by a shutdown or a
   * delete, or failed before its request went out): if it was the probe, the next one may go.
   */
  abandon(origin: string, now: number): void {
    const c = this.circuits.get(origin);
    if (c?.state === 'half-open') {
      c.state = 'open';
      c.until = now;
    }
  }

  /** An operator closes the circuit by hand (the endpoint is known to be back). */
  reset(origin: string): void {
    const c = this.circuits.get(origin);
    if (!c) return;
    this.circuits.delete(origin);
    if (c.state !== 'closed') this.events.closed(origin, c.members);
  }

  state(origin: string): BreakerState {
    return this.circuits.get(origin)?.state ?? 'closed';
  }

  /** The origins whose circuit is not closed, with their state (metrics). */
  notClosed(): Map<string, BreakerState> {
    const out = new Map<string, BreakerState>();
    for (const [origin, c] of this.circuits) if (c.state !== 'closed') out.set(origin, c.state);
    return out;
  }
}
