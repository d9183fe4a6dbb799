import type { Logger } from 'pino';
import { newId } from '../ids.js';
import type { AcceptedCopy, IntakeDecision, MessageRecord } from '../storage/contract.js';
import type { Mapping, MappingStorage } from '../storage/mapping-contract.js';
import type { Router } from './intake.js';
import { applyFilters, type CompiledFilter, compileFilter, stringifyValue } from './routing/filters.js';
import { type CompiledIdentifiers, compileIdentifiers } from './routing/identifiers.js';
import { TypeIndex } from './routing/message-types.js';
import { type Path, parsePath, valuesAt } from './routing/paths.js';

/** One mapping, compiled once per mapping-set version. */
export interface CompiledMapping {
  readonly mapping: Mapping;
  readonly filters: readonly CompiledFilter[];
  readonly identifiers: CompiledIdentifiers | null;
  readonly orderingKey: Path | null;
  readonly ttlMs: number;
  /** False when nothing reads the message body, so the payload need not be parsed at all. */
  readonly readsMessage: boolean;
}

/** A store's mappings, compiled. `index` holds the enabled ones only; `all` is for explain. */
export interface CompiledStore {
  readonly version: number;
  readonly index: TypeIndex<CompiledMapping>;
  readonly all: readonly CompiledMapping[];
}

export function compileMapping(mapping: Mapping): CompiledMapping {
  const filters = mapping.filters.map((f) => compileFilter(f));
  const names = Object.keys(mapping.identifiers);
  const identifiers = names.length > 0 ? compileIdentifiers(mapping.identifiers) : null;
  const orderingKey = mapping.options.ordering_key === null ? null : parsePath(mapping.options.ordering_key);
  return {
    mapping,
    filters,
    identifiers,
    orderingKey,
    ttlMs: mapping.options.identifier_ttl * 1000,
    readsMessage: filters.length > 0 || identifiers !== null || orderingKey !== null,
  };
}

/**
 * Mappings are validated when saved, so a stored one always compiles; if one ever does not (a rule
 * tightened by an upgrade), it is left out and logged rather than stopping intake for every store.
 */
export function compileStore(mappings: readonly Mapping[], version: number, log?: Logger): CompiledStore {
  const all: CompiledMapping[] = [];
  for (const mapping of mappings) {
    try {
      all.push(compileMapping(mapping));
    } catch (err) {
      log?.error(
        { err, mapping_id: mapping.id, store_id: mapping.store_id },
        'mapping does not compile; skipped',
      );
    }
  }
  const enabled = all.filter((c) => c.mapping.enabled);
  return {
    version,
    index: new TypeIndex(enabled.map((c) => ({ patterns: c.mapping.messages, value: c }))),
    all,
  };
}

/** The object filters and identifiers see: the message as an endpoint would, extra fields included. */
export function messageRoot(
  m: { message: string; id: string | null; extra: unknown },
  payload: unknown,
): unknown {
  const extra = m.extra !== null && typeof m.extra === 'object' ? m.extra : {};
  return { ...extra, message: m.message, message_id: m.id, payload };
}

/** The ordering key of a copy: the first value at the path, stringified; null when there is none. */
export function orderingKeyOf(c: CompiledMapping, root: unknown): string | null {
  if (c.orderingKey === null) return null;
  const first = valuesAt(root, c.orderingKey)[0];
  return first === undefined || first === null ? null : stringifyValue(first);
}

interface CacheEntry {
  store: CompiledStore;
  checkedAt: number;
}

export interface MappingRouterOptions {
  /** How long a compiled store is trusted before its version is checked again (other processes). */
  recheckMs?: number;
  log?: Logger;
}

/**
 * The intake router (docs/design.md#intake; the rules in docs/routing.md). Per store it keeps the compiled
 * mapping set; a message's type is looked up in the TypeIndex (hash lookups, memoised), so the cost of a
 * message depends on the mappings that can take it, not on how many the store has.
 *
 * Freshness: a change made through this process's API calls `invalidate(store)`, and the next
 * batch reloads. Changes made by another process (PostgreSQL mode) are noticed by reading the
 * store's mapping-set version once `recheckMs` has passed (the hub sets 0 on PostgreSQL: every
 * batch): one primary-key read, and the set is reloaded and recompiled only when the version moved.
 *
 * Races: the version is read BEFORE the mappings, so a load can only be newer than its version
 * (the next check reloads, harmlessly), never older. An invalidate that arrives while a load is in
 * flight bumps the store's epoch; the load's result is then kept but marked for an immediate
 * recheck, so a change is never hidden behind a stale cache entry.
 */
export class MappingRouter implements Router {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly epochs = new Map<string, number>();
  private readonly recheckMs: number;
  private readonly log: Logger | undefined;

  constructor(
    private readonly storage: MappingStorage,
    options: MappingRouterOptions = {},
  ) {
    this.recheckMs = options.recheckMs ?? 2000;
    this.log = options.log;
  }

  invalidate(storeId: string): void {
    this.cache.delete(storeId);
    this.epochs.set(storeId, (this.epochs.get(storeId) ?? 0) + 1);
  }

  /** The store's compiled mappings, reloaded when stale. */
  async compiled(storeId: string, now: number): Promise<CompiledStore> {
    const entry = this.cache.get(storeId);
    if (entry && now - entry.checkedAt < this.recheckMs) return entry.store;
    const epoch = this.epochs.get(storeId) ?? 0;
    const version = await this.storage.mappingsVersion(storeId);
    let store: CompiledStore;
    if (entry && entry.store.version === version) {
      store = entry.store;
    } else {
      const mappings = await this.storage.listMappings(storeId);
      store = compileStore(mappings, version, this.log);
    }
    const current = (this.epochs.get(storeId) ?? 0) === epoch;
    if (this.cache.size > 10_000 && !this.cache.has(storeId)) this.cache.clear();
    this.cache.set(storeId, { store, checkedAt: current ? now : Number.NEGATIVE_INFINITY });
    return store;
  }

  async route(batch: MessageRecord[], now: number): Promise<IntakeDecision[]> {
    const stores = new Map<string, CompiledStore>();
    for (const m of batch) {
      if (!stores.has(m.store_id)) stores.set(m.store_id, await this.compiled(m.store_id, now));
    }
    return batch.map((m) => decide(stores.get(m.store_id)!, m, now));
  }
}

/** The routing decision for one incoming message (pure, given the compiled store). */
export function decide(store: CompiledStore, m: MessageRecord, now: number): IntakeDecision {
  const candidates = store.index.lookup(m.message);
  if (candidates.length === 0) return { id: m.id, copies: [], reason: 'no mapping' };
  let root: unknown;
  if (candidates.some((c) => c.readsMessage)) {
    try {
      root = messageRoot(
        { message: m.message, id: m.id, extra: m.extra === null ? null : JSON.parse(m.extra) },
        JSON.parse(m.payload),
      );
    } catch {
      // Unreachable for messages stored by the hub (it stores what it parsed); kept visible, not dropped.
      return { id: m.id, copies: [], invalid: 'payload is not valid JSON' };
    }
  }
  const copies: AcceptedCopy[] = [];
  for (const c of candidates) {
    if (c.filters.length > 0 && !applyFilters(c.filters, root).pass) continue;
    const copy: AcceptedCopy = {
      id: newId(),
      mapping_id: c.mapping.id,
      consumer: c.mapping.name,
      ordering_key: orderingKeyOf(c, root),
    };
    const key = c.identifiers?.key(root) ?? null;
    if (key !== null) copy.dedup = { key, expires_at: now + c.ttlMs };
    copies.push(copy);
  }
  return copies.length > 0 ? { id: m.id, copies } : { id: m.id, copies: [], reason: 'filtered' };
}
