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

/**
 * Checks `X-Augury-Token` against a store's active tokens. Lookups are cached for a few seconds so
 * a push costs no database read, and a token that matched is remembered with the entry so the next
 * push costs no hash either; a token revoked through this process is dropped at once, and one
 * revoked by another process (PostgreSQL mode) stops working within `ttlMs`.
 */
export class StoreAuth {
  private readonly cache = new Map<string, Entry>();

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
    let entry = this.cache.get(storeId);
    if (!entry || now - entry.loadedAt > this.ttlMs) {
      const store = await this.storage.getStore(storeId);
      const digests = store ? await this.storage.activeTokenHashes(storeId) : [];
      entry = { store, digests, loadedAt: now, accepted: new Set() };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(storeId, entry);
    }
    if (!entry.store) throw new HubError('STORE_NOT_FOUND');
    if (!token) throw new HubError('TOKEN_INVALID');
    if (!entry.accepted.has(token)) {
      if (!tokenMatches(token, entry.digests)) throw new HubError('TOKEN_INVALID');
      if (entry.accepted.size < ACCEPTED_PER_STORE) entry.accepted.add(token);
    }
    return entry.store;
  }

  invalidate(storeId: string): void {
    this.cache.delete(storeId);
  }
}
