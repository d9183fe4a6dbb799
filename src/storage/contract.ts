/**
 * The storage contract: everything the HTTP layer and the pipeline ask of a database. There is one
 * implementation written once against Kysely (`sql-storage.ts`) and a thin adapter per dialect
 * (`sqlite/`, `postgres/`) that supplies the connection, the migrations and the few statements that
 * differ (claiming work). The behaviour suite in `test/storage/` runs unchanged against each adapter.
 *
 * Times are epoch milliseconds everywhere below; the HTTP layer turns them into ISO 8601.
 */

import type { DeliveryStorage } from './delivery-contract.js';
import type { DialectName } from './dialect.js';
import type { IntegrationStorage, SchedulerStorage } from './integration-contract.js';
import type { MappingStorage } from './mapping-contract.js';

export type QueueName = 'incoming' | 'accepted' | 'archived';

/**
 * Message states, by queue:
 *   incoming  pending
 *   accepted  pending → running (leased) → back to pending/failing/scheduled/parked, or archived
 *   archived  completed | skipped | invalid | never_processed
 * `source` on an archived row says which queue it left (`incoming` or `accepted`).
 */
export type MessageState =
  | 'pending'
  | 'running'
  | 'failing'
  | 'scheduled'
  | 'parked'
  | 'completed'
  | 'skipped'
  | 'invalid'
  | 'never_processed';

export const ARCHIVED_STATES = ['completed', 'skipped', 'invalid', 'never_processed'] as const;
export const ACCEPTED_STATES = ['pending', 'running', 'failing', 'scheduled', 'parked'] as const;

/** How a message entered the incoming queue. */
export type Origin = 'push' | 'reply' | 'scheduler' | 'notification';

export interface Store {
  id: string;
  name: string;
  created_at: number;
  /** The store's own rate limits, JSON (`StoreLimits`, http/rate-limit.ts); null: the hub's defaults. */
  limits?: string | null;
}

export interface StoreToken {
  id: string;
  store_id: string;
  token_hash: string;
  hint: string;
  created_at: number;
  revoked_at: number | null;
}

export interface MessageRecord {
  id: string;
  store_id: string;
  message: string;
  /** The payload exactly as JSON text, so what was received is what is kept and delivered. */
  payload: string;
  /** Other top-level fields the sender included, as a JSON object text, or null. */
  extra: string | null;
  queue_name: QueueName;
  state: MessageState;
  source: 'incoming' | 'accepted' | null;
  origin: Origin;
  parent_id: string | null;
  mapping_id: string | null;
  consumer: string | null;
  depth: number;
  attempts: number;
  created_at: number;
  attempt_at: number | null;
  completed_at: number | null;
  locked_at: number | null;
  last_error: string | null;
  reason: string | null;
  result: string | null;
}

/**
 * A message as a queue listing returns it: without the columns that may be large (the payload,
 * which a copy reads from its parent's row, the extra fields and the endpoint's result). The
 * queue item of the API shows none of them; GET …/messages/{id} does.
 */
export type QueueEntry = Omit<MessageRecord, 'payload' | 'extra' | 'result'>;

export interface NewIncoming {
  id: string;
  store_id: string;
  message: string;
  payload: string;
  extra: string | null;
  origin: Origin;
  parent_id: string | null;
  depth: number;
  created_at: number;
}

export interface PushRequest {
  message: NewIncoming;
  /** With an Idempotency-Key: the key and the answer to store for replays. */
  idempotency?: { key: string; response: string; expires_before: number };
}

/** `routed`: the push was routed in its own commit (see PushRouting) and needs no intake. */
export type PushOutcome = { kind: 'created'; routed: boolean } | { kind: 'replayed'; response: string };

/**
 * Routing offered by a process's intake for pushes, applied in the push's own commit: the pushed
 * row is written once, already archived, beside its copies, instead of being written to the
 * incoming queue, read back by intake, archived and committed a second time.
 */
export interface PushRouting {
  /** True when no older incoming message waits for intake, so a routed push overtakes none. */
  ready(): boolean;
  decide(batch: MessageRecord[]): IntakeDecision[] | Promise<IntakeDecision[]>;
  /** After the commit, with the decisions that were applied. */
  applied(decisions: IntakeDecision[]): void;
  /**
   * Something was added to the incoming queue (a push that was not routed, a reply's messages, a
   * scheduler tick). Called inside the adding transaction or right after its commit; either is in
   * time, because intake's read of the queue waits for that transaction (SQLite: one connection).
   */
  deferred(): void;
}

export interface QueueFilter {
  message?: string;
  state?: MessageState;
  start_date?: number;
  end_date?: number;
  message_id?: string;
  parent_id?: string;
  mapping_id?: string;
  source?: 'incoming' | 'accepted';
}

export interface Page {
  page: number;
  per_page: number;
}

export type QueueCounts = Record<
  'incoming' | 'pending' | 'running' | 'failing' | 'scheduled' | 'parked' | 'archived',
  number
>;

export interface ChildSummary {
  id: string;
  message: string;
  state: MessageState;
  queue_name: QueueName;
  /** The mapping a copy was made for, and its name; null for a reply's message (not yet routed). */
  mapping_id: string | null;
  consumer: string | null;
}

/** What intake decided for one incoming message; applied atomically by `Storage.intake`. */
export interface IntakeDecision {
  id: string;
  /** `invalid` archives the message with `reason`; otherwise copies decide between completed and skipped. */
  invalid?: string;
  copies: AcceptedCopy[];
  /** Why nothing took it, when `copies` is empty (e.g. `no mapping`). */
  reason?: string;
}

export interface AcceptedCopy {
  id: string;
  mapping_id: string;
  consumer: string;
  ordering_key: string | null;
  /** Identifier key for de-duplication; a copy whose key is already held becomes a skipped child. */
  dedup?: { key: string; expires_at: number };
}

export interface StoreSchema {
  store_id: string;
  message: string;
  schema: string;
  version: number;
  updated_at: number;
}

export interface Storage extends MappingStorage, DeliveryStorage, IntegrationStorage, SchedulerStorage {
  /**
   * Which database, and whether this process is the only one using it (SQLite): the pipeline
   * relies on that for push-time routing, the copy handover and sweeping leases at start
   * (docs/design.md#leases). `name` is reported by /readyz.
   */
  readonly database: { readonly name: DialectName; readonly singleProcess: boolean };
  /** Apply pending migrations (idempotent, safe to run from several processes at once). */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Wake-ups from other processes sharing the database (PostgreSQL LISTEN/NOTIFY): `incoming` when
   * a message entered the incoming queue, `accepted` when copies became deliverable. SQLite has one
   * process, so nothing arrives. Returns a function that stops listening.
   */
  subscribe(
    onWake: (channel: 'incoming' | 'accepted') => void,
    onError?: (err: Error) => void,
  ): () => Promise<void>;

  createStore(store: Store, token: StoreToken): Promise<void>;
  /** Create the store only if the database has none yet (safe when several processes start at once). */
  createFirstStore(store: Store, token: StoreToken): Promise<boolean>;
  getStore(id: string): Promise<Store | undefined>;
  listStores(): Promise<Store[]>;
  countStores(): Promise<number>;
  addToken(token: StoreToken): Promise<void>;
  listTokens(storeId: string): Promise<StoreToken[]>;
  /** Revoke by token id; false when the store has no such active token. */
  revokeToken(storeId: string, tokenId: string, at: number): Promise<boolean>;
  activeTokenHashes(storeId: string): Promise<string[]>;
  /** Set (or, with null, clear) a store's rate limits; false when there is no such store. */
  setStoreLimits(storeId: string, limits: string | null): Promise<boolean>;

  /** Store a pushed message (and its idempotency key) durably; resolves after the commit. */
  push(request: PushRequest): Promise<PushOutcome>;

  /** Reports the durations of the storage's own disk syncs (SQLite's WAL fdatasync; PostgreSQL: none). */
  observeSyncs(observe: (seconds: number) => void): void;

  /** Route pushes at push time with `routing` while it is ready (undefined: never). */
  routePushes(routing: PushRouting | undefined): void;

  /**
   * Claim up to `limit` pending incoming messages (oldest first), let `decide` route them, and apply
   * every decision in one transaction: copies are inserted, identifier keys taken, and the incoming
   * messages archived. Returns how many messages were processed.
   */
  intake(
    limit: number,
    decide: (batch: MessageRecord[]) => IntakeDecision[] | Promise<IntakeDecision[]>,
    now: number,
  ): Promise<number>;

  getMessage(storeId: string, id: string): Promise<MessageRecord | undefined>;
  children(storeId: string, parentId: string): Promise<ChildSummary[]>;
  listQueue(
    storeId: string,
    queue: QueueName,
    filter: QueueFilter,
    page: Page,
  ): Promise<{ items: QueueEntry[]; total: number; capped: boolean }>;
  queueCounts(storeId: string): Promise<QueueCounts>;
  availableMessages(storeId: string): Promise<string[]>;

  putStoreSchema(schema: StoreSchema): Promise<StoreSchema>;
  getStoreSchema(storeId: string, message: string): Promise<StoreSchema | undefined>;
  listStoreSchemas(storeId: string): Promise<StoreSchema[]>;
  deleteStoreSchema(storeId: string, message: string): Promise<boolean>;

  /** Housekeeping: drop idempotency keys older than `before`; returns how many. */
  purgeIdempotencyKeys(before: number): Promise<number>;
  /**
   * Retention: deletes up to `limit` archived messages archived before `before` (epoch ms), with
   * their attempts and notifications; answers how many went. Other queues are never touched.
   */
  purgeArchived(before: number, limit: number): Promise<number>;
}
