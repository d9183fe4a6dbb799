import type { MessageRecord, NewIncoming, Page, QueueFilter } from './contract.js';

/**
 * Delivery (docs/design.md#leases, docs/design.md#message-lifecycle) as storage sees it. The lifecycle of an
 * accepted copy:
 *
 *   pending/failing/scheduled ──lease──► running ──settle──► archived completed
 *                                          │                 failing   (retry at attempt_at)
 *                                          │                 scheduled (async endpoint: poll update_url)
 *                                          │                 parked    (no more automatic retries)
 *                                          └──lease expired (crashed worker)──► pending (delivered again)
 *
 * A lease is taken in one statement and carries a token unique to that lease, so a settle from a
 * worker whose lease was swept and given to another is refused instead of overwriting newer state.
 */

export interface LeasedMessage extends MessageRecord {
  lease_owner: string;
  lease_expires_at: number;
  ordering_key: string | null;
  update_url: string | null;
}

/**
 * Lets this process's delivery engine take new accepted copies in the very transaction that
 * creates them (a push routed at push time, or intake): they are written already leased, and
 * handed over in memory after the commit, instead of being written pending and then found and
 * leased by a separate statement and commit.
 */
export interface CopyHandover {
  /**
   * A lease for some of the new copies (given by mapping, in creation order), or undefined to
   * leave them all pending. `bulk`: the copies come from an intake step over a batch of queued
   * messages, which the engine may take as many of as a lease statement would; a push routed at
   * once (one push batch) is taken only by a nearly idle engine.
   */
  reserve(
    mappings: readonly (string | null)[],
    now: number,
    bulk: boolean,
  ): { lease: string; taken: number[]; expiresAt: number } | undefined;
  /** After the commit, the taken copies, written with the lease, in creation order. */
  deliver(copies: LeasedMessage[]): void;
  /** The transaction failed: the reservation is void. */
  cancel(lease: string, take: number): void;
}

export interface AttemptRecord {
  id: string;
  message_id: string;
  store_id: string;
  attempted_at: number;
  duration_ms: number;
  url: string;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
}

export interface NotificationRecord {
  id: string;
  store_id: string;
  message_id: string;
  /** Same fingerprint on the same message = the same notification (occurrences + 1). */
  fingerprint: string;
  level: 'info' | 'warn' | 'error';
  subject: string;
  description: string | null;
  reference_type: string | null;
  reference_id: string | null;
  reference_token: string | null;
  origin: string | null;
  attributes: string | null;
  occurrences: number;
  logged_on: number;
  last_update: number;
}

export type DataType = 'string' | 'integer' | 'float' | 'boolean' | 'list';

export interface Parameter {
  id: string;
  store_id: string;
  name: string;
  /** JSON text of the value. */
  value: string;
  data_type: DataType;
  created_at: number;
  updated_at: number;
}

export type SettleOutcome =
  | { kind: 'completed' }
  | { kind: 'scheduled'; attempt_at: number; update_url: string | null }
  | { kind: 'failing'; attempt_at: number; last_error: string }
  | { kind: 'parked'; last_error: string; reason: string }
  /** Shutdown or a lost mapping lookup: back to pending, no attempt counted. */
  | { kind: 'released' };

export interface Settlement {
  id: string;
  store_id: string;
  lease: string;
  now: number;
  outcome: SettleOutcome;
  attempt?: AttemptRecord;
  /** The reply body, kept as the message's result. */
  result?: string | null;
  /** Messages from the reply, into the incoming queue (depth already checked: `invalid` ones are archived). */
  children: (NewIncoming & { invalid?: string })[];
  /** Each notification with the incoming message to emit if it is new to this message. */
  notifications: { record: NotificationRecord; message: NewIncoming & { invalid?: string } }[];
  parameters: { name: string; value: string; data_type: DataType }[];
}

export interface NotificationFilter {
  level?: string;
  reference_type?: string;
  reference_token?: string;
  message_id?: string;
}

export interface DeliveryStorage {
  /** Hand new copies to `handover` while it reserves them (undefined: never). */
  handOverCopies(handover: CopyHandover | undefined): void;

  /**
   * Lease up to `limit` due accepted messages (oldest due first), skipping mappings in `exclude`
   * and messages queued behind an earlier one with the same ordering key.
   */
  leaseDeliveries(
    lease: string,
    limit: number,
    now: number,
    leaseMs: number,
    exclude: readonly string[],
  ): Promise<LeasedMessage[]>;
  /** Heartbeat: push out the expiry of every message still held under these lease tokens. */
  renewLeases(leases: readonly string[], until: number): Promise<number>;
  /** Apply a settlement (group-committed with others); false when the lease was no longer held. */
  settle(settlement: Settlement): Promise<boolean>;
  /** Return expired leases (with `all`, every lease) to pending, due now; how many. */
  sweepLeases(now: number, all?: boolean): Promise<number>;

  attemptsFor(messageId: string): Promise<AttemptRecord[]>;
  notificationsFor(messageId: string): Promise<NotificationRecord[]>;
  listNotifications(
    storeId: string,
    filter: NotificationFilter,
    page: Page,
  ): Promise<{ items: NotificationRecord[]; total: number }>;

  /** Retry now: failing, parked, scheduled or pending accepted messages; optionally with a new payload. */
  retryMessage(
    storeId: string,
    id: string,
    now: number,
    payload?: string,
  ): Promise<MessageRecord | undefined>;
  /** Archive by hand (never_processed) and release the message's identifier key. */
  archiveMessage(storeId: string, id: string, now: number): Promise<MessageRecord | undefined>;
  retryMatching(storeId: string, filter: QueueFilter, now: number): Promise<number>;
  archiveMatching(storeId: string, filter: QueueFilter, now: number): Promise<number>;

  listParameters(storeId: string): Promise<Parameter[]>;
  getParameter(storeId: string, idOrName: string): Promise<Parameter | undefined>;
  /** Insert or replace by name. */
  putParameter(p: Parameter): Promise<Parameter>;
  deleteParameter(storeId: string, idOrName: string): Promise<boolean>;
}
