import { HubError } from '../errors.js';
import type { Storage, Store } from '../storage/contract.js';
import { tokenMatches } from '../tokens.js';

interface Entry {
  store: Store | undefined;
  digests: string[];
  loadedAt: number;
  /** Tokens already checked against `digests` (no SHA-256 per push); dies with the entry. */
  accepted: Set<string>;
}

const ACCEPTED_PER_STORE = 64;
/** Stores whose tokens are cached; past this the least recently used is dropped. */
const STORES_CACHED = 10_000;
/** Ids found to name no store, remembered apart so that random ids cannot push real stores out. */
const UNKNOWN_CACHED = 10_000;

/**
 * Checks `X-Augury-Token` against a store's active tokens. Lookups are cached for a few seconds so
 * a push costs no database read, and a token that matched is remembered with the entry so the next
 * push costs no hash either; a token revoked through this process is dropped at once, and one
 * revoked by another process (PostgreSQL mode) stops working within `ttlMs`.
 *
 * Both caches are bounded and evict one entry at a time, least recently used first (a Map keeps
 * insertion order; a hit moves the entry to the end). Ids that name no store go to their own
 * cache: a client sending random store ids churns that one only, while every real store's entry
 * stays, so no other store's checks fall through to the database.
 */
export class StoreAuth {
  private readonly cache = new Map<string, Entry>();
  private readonly unknown = new Map<string, number>();

  constructor(
    private readonly storage: Storage,
    private readonly ttlMs = 5000,
  ) {}

  /**
   * The store, when a fresh cache entry already accepted this token: no promise, no hash (the
   * push path's common case). Anything else — unknown, stale, refused — is for `authenticate`.
   */
  known(storeId: string, token: string | undefined, now = Date.now()): Store | undefined {
    const entry = this.cache.get(storeId);
    if (!entry || !token || now - entry.loadedAt > this.ttlMs || !entry.accepted.has(token)) return undefined;
    return entry.store;
  }

  async authenticate(storeId: string, token: string | undefined, now = Date.now()): Promise<Store> {
    const entry = await this.entry(storeId, now);
    if (!entry?.store) throw new HubError('STORE_NOT_FOUND');
    if (!token) throw new HubError('TOKEN_INVALID');
    if (!entry.accepted.has(token)) {
      if (!tokenMatches(token, entry.digests)) throw new HubError('TOKEN_INVALID');
      if (entry.accepted.size < ACCEPTED_PER_STORE) entry.accepted.add(token);
    }
    return entry.store;
  }

  invalidate(storeId: string): void {
    this.cache.delete(storeId);
    this.unknown.delete(storeId);
  }

  private async entry(storeId: string, now: number): Promise<Entry | undefined> {
    const cached = this.cache.get(storeId);
    if (cached && now - cached.loadedAt <= this.ttlMs) {
      this.cache.delete(storeId);
      this.cache.set(storeId, cached);
      return cached;
    }
    const missingSince = this.unknown.get(storeId);
    if (missingSince !== undefined && now - missingSince <= this.ttlMs) return undefined;
    const store = await this.storage.getStore(storeId);
    if (!store) {
      this.unknown.delete(storeId);
      remember(this.unknown, storeId, now, UNKNOWN_CACHED);
      this.cache.delete(storeId);
      return undefined;
    }
    this.unknown.delete(storeId);
    const entry = {
      store,
      digests: await this.storage.activeTokenHashes(storeId),
      loadedAt: now,
      accepted: new Set<string>(),
    };
    this.cache.delete(storeId);
    remember(this.cache, storeId, entry, STORES_CACHED);
    return entry;
  }
}

/** Sets `key` as the most recent entry, dropping the least recent one when `map` is full. */
function remember<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  if (map.size >= limit) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}
