import { newId } from '../ids.js';

/** Filter operators and the stored form of a mapping's filters (docs/routing.md#filters). */
export const OPERATORS = [
  'eq',
  'neq',
  'gt',
  'lt',
  'begin',
  'contains',
  'end',
  'present',
  'empty',
  'match',
] as const;
export type Operator = (typeof OPERATORS)[number];
export type MatchRule = 'all' | 'any';

export interface FilterSpec {
  path: string;
  operator: Operator;
  value?: unknown;
  match_rule?: MatchRule;
}

/**
 * Mappings (docs/routing.md#mappings-api): a store's subscriptions of message types to endpoint services.
 * Storage keeps them already validated and normalised (defaults filled in) by
 * `pipeline/mapping-validation.ts`, so a stored mapping always compiles. Times are epoch milliseconds;
 * durations in `options` are as the API states them (seconds, except `timeout_ms`).
 */
export interface MappingOptions {
  retries_allowed: boolean;
  timeout_ms: number;
  /** null: no limit on the number of attempts (max_age still applies). */
  max_attempts: number | null;
  /** Seconds after which a failing message is parked. */
  max_age: number;
  concurrency: number;
  /** A path (see routing/paths.ts); deliveries with the same value go one at a time, in order. */
  ordering_key: string | null;
  signing_secret: string | null;
  /** Seconds an identifier key is held. */
  identifier_ttl: number;
  format: 'augury';
}

/** Everything a client writes; the rest of `Mapping` is set by the hub. */
export interface MappingFields {
  name: string;
  url: string;
  token: string;
  messages: string[];
  filters: FilterSpec[];
  identifiers: Record<string, string>;
  /** null: the default rule (the integration's parameters, or none). */
  parameters: string[] | null;
  options: MappingOptions;
  enabled: boolean;
  required: boolean;
}

export interface Mapping extends MappingFields {
  id: string;
  store_id: string;
  integration_id: string | null;
  created_at: number;
  updated_at: number;
  /** Starts at 1; every update adds one. */
  version: number;
}

/** A mapping not stored yet, made of validated fields: a new id, version 1, created `now`. */
export function newMapping(
  fields: MappingFields,
  storeId: string,
  now: number,
  integrationId: string | null = null,
): Mapping {
  return {
    ...fields,
    id: newId(),
    store_id: storeId,
    integration_id: integrationId,
    created_at: now,
    updated_at: now,
    version: 1,
  };
}

/** Thrown by create/update when another mapping of the store already has the name. */
export class MappingNameTaken extends Error {
  override name = 'MappingNameTaken';
  constructor(readonly mappingName: string) {
    super(`a mapping named ${JSON.stringify(mappingName)} already exists in this store`);
  }
}

/**
 * updateMapping was given the version its fields were merged onto, and the mapping has moved past
 * it (another edit, an integration refresh, another process): the caller merges again onto the
 * mapping as it is now, instead of writing back fields it read before that change.
 */
export class MappingChanged extends Error {
  override name = 'MappingChanged';
  constructor(readonly mappingId: string) {
    super(`mapping ${mappingId} changed since it was read`);
  }
}

/**
 * Runs a read-merge-write of mappings until it goes through: `attempt` reads what it merges onto
 * afresh each time, and a MappingChanged (or what `retryable` accepts) runs it again, at most
 * `times` times in all. Another edit landing between every read and write ten times over is not
 * contention a person causes: the last error then goes to the caller.
 */
export async function untilUnchanged<T>(
  attempt: () => Promise<T>,
  retryable: (err: unknown) => boolean = (err) => err instanceof MappingChanged,
  times = 10,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!retryable(err) || n >= times) throw err;
    }
  }
}

export interface MappingStorage {
  /** Every mapping of the store, enabled or not, ordered by name. */
  listMappings(storeId: string): Promise<Mapping[]>;
  getMapping(storeId: string, id: string): Promise<Mapping | undefined>;
  findMappingByName(storeId: string, name: string): Promise<Mapping | undefined>;
  /** Inserts with version 1; throws MappingNameTaken on a name clash. */
  createMapping(mapping: Mapping): Promise<Mapping>;
  /**
   * Replaces the client fields of an existing mapping, sets `updated_at` and adds one to its version;
   * undefined when it no longer exists. Throws MappingNameTaken on a name clash, and MappingChanged
   * when `expectedVersion` is given and the stored version is another.
   */
  updateMapping(
    storeId: string,
    id: string,
    fields: MappingFields,
    now: number,
    expectedVersion?: number,
  ): Promise<Mapping | undefined>;
  /** Deletes the mapping and its identifier keys; false when there was none. */
  deleteMapping(storeId: string, id: string): Promise<boolean>;
  /**
   * A counter that changes whenever the store's mapping set changes (any create, update or delete,
   * from any process): one primary-key read, so a router can poll it cheaply. 0 before any change.
   */
  mappingsVersion(storeId: string): Promise<number>;
  /** Read-only: does the mapping hold this identifier key (unexpired at `now`)? For explain. */
  identifierKeyHeld(mappingId: string, key: string, now: number): Promise<boolean>;
}
