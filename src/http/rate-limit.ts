import type { FastifyReply } from 'fastify';
import { HubError } from '../errors.js';
import type { Store } from '../storage/contract.js';

/**
 * Per-store rate limits (docs/security.md, "Rate limits"): a token bucket per store for pushes and
 * one for the rest of the store API, so one store's burst cannot take the hub's capacity from the
 * others. A bucket holds up to `burst` requests and refills at `rate` a second; a request takes
 * one, and with none left it is answered 429 before anything is read or stored. Limits are the
 * hub's settings (`pushRate`, `apiRate`; burst twice the rate) unless the store has its own
 * (`limits` on the store, set through the admin API). A rate of 0 is no limit.
 *
 * The buckets live in each process: with several hub processes on one PostgreSQL database, a
 * store's effective limit is the rate times the number of API processes its clients reach.
 */

export type LimitKind = 'push' | 'api';

export interface RateLimit {
  /** Requests a second, refilled continuously; 0: unlimited. */
  rate: number;
  /** The most requests at once after a quiet spell. */
  burst: number;
}

/** A store's own limits, as stored and as the admin API takes them; an absent field: the hub's. */
export interface StoreLimits {
  push_rate?: number;
  push_burst?: number;
  api_rate?: number;
  api_burst?: number;
}

export const LIMIT_FIELDS = ['push_rate', 'push_burst', 'api_rate', 'api_burst'] as const;

/** The default burst of a rate: two seconds of it, at least one request. */
export function defaultBurst(rate: number): number {
  return Math.max(1, 2 * rate);
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** Parsed `limits` by the store record they came with (a new record after every change). */
  private readonly parsed = new WeakMap<Store, StoreLimits>();

  constructor(private readonly defaults: Record<LimitKind, number>) {}

  /** The limit that applies to a store's requests of one kind. */
  limitFor(store: Store, kind: LimitKind): RateLimit {
    const own = this.own(store);
    const rate = own[`${kind}_rate`] ?? this.defaults[kind];
    return { rate, burst: own[`${kind}_burst`] ?? defaultBurst(rate) };
  }

  /**
   * Takes one request from the store's bucket. Sets the RateLimit-* headers when a limit applies;
   * returns the 429 to answer with when the bucket is empty (and sets Retry-After).
   */
  take(store: Store, kind: LimitKind, reply: FastifyReply, now = Date.now()): HubError | undefined {
    const { rate, burst } = this.limitFor(store, kind);
    if (rate <= 0) return undefined;
    const key = `${kind}:${store.id}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: burst, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    reply.header('ratelimit-limit', burst);
    reply.header('ratelimit-remaining', Math.floor(bucket.tokens));
    reply.header('ratelimit-reset', Math.ceil((burst - bucket.tokens) / rate));
    if (allowed) return undefined;
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
    reply.header('retry-after', retryAfter);
    const what = kind === 'push' ? 'pushes' : 'API requests';
    return new HubError(
      'RATE_LIMITED',
      undefined,
      `Too many ${what} for this store: the limit is ${rate} a second (bursts of ${burst}). Try again in ${retryAfter} s.`,
    );
  }

  private own(store: Store): StoreLimits {
    if (!store.limits) return {};
    let limits = this.parsed.get(store);
    if (!limits) {
      limits = JSON.parse(store.limits) as StoreLimits;
      this.parsed.set(store, limits);
    }
    return limits;
  }
}
