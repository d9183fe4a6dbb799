import { type Kysely, sql, type Transaction } from 'kysely';
import type { AcceptedCopy, MessageRecord, NewIncoming, QueueFilter, QueueName } from './contract.js';
import type { DB } from './schema.js';

/** Row helpers and query pieces for the messages table, shared by the storage modules. */

type Db = Kysely<DB> | Transaction<DB>;
type MessageRow = DB['messages'];

/** Every column of the messages table, in table order (for inserts of whole rows). */
export const MESSAGE_ROW_COLUMNS = [
  'id',
  'store_id',
  'message',
  'payload',
  'extra',
  'queue_name',
  'state',
  'source',
  'origin',
  'parent_id',
  'mapping_id',
  'consumer',
  'depth',
  'attempts',
  'created_at',
  'attempt_at',
  'completed_at',
  'locked_at',
  'lease_owner',
  'lease_expires_at',
  'ordering_key',
  'last_error',
  'reason',
  'result',
  'update_url',
] as const satisfies readonly (keyof MessageRow)[];

const INTERNAL = new Set<string>(['lease_owner', 'lease_expires_at', 'ordering_key', 'update_url']);

/** The columns of a MessageRecord: everything but the worker-internal lease and routing fields. */
export const MESSAGE_COLUMNS = MESSAGE_ROW_COLUMNS.filter(
  (
    c,
  ): c is Exclude<
    (typeof MESSAGE_ROW_COLUMNS)[number],
    'lease_owner' | 'lease_expires_at' | 'ordering_key' | 'update_url'
  > => !INTERNAL.has(c),
);

/** The columns of a QueueEntry: a MessageRecord's but the payload, the extra fields and the result. */
export const QUEUE_ENTRY_COLUMNS = MESSAGE_COLUMNS.filter(
  (c): c is Exclude<(typeof MESSAGE_COLUMNS)[number], 'payload' | 'extra' | 'result'> =>
    c !== 'payload' && c !== 'extra' && c !== 'result',
);

/** The rows of one queue of one store that match a listing filter (no ordering, no paging). */
export function filterMessages(db: Db, storeId: string, queue: QueueName, filter: QueueFilter) {
  let q = db.selectFrom('messages').where('store_id', '=', storeId).where('queue_name', '=', queue);
  // The original hub listed only completed messages in the archive unless asked otherwise.
  if (queue === 'archived' && !filter.state && !filter.source) q = q.where('state', '=', 'completed');
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.source) q = q.where('source', '=', filter.source);
  if (filter.message) q = q.where('message', '=', filter.message);
  if (filter.message_id) q = q.where('id', '=', filter.message_id);
  if (filter.parent_id) q = q.where('parent_id', '=', filter.parent_id);
  if (filter.mapping_id) q = q.where('mapping_id', '=', filter.mapping_id);
  if (filter.start_date !== undefined) q = q.where('created_at', '>=', filter.start_date);
  if (filter.end_date !== undefined) q = q.where('created_at', '<=', filter.end_date);
  return q;
}

/**
 * Copies share their parent's payload instead of storing it again. A copy's row holds an empty
 * payload (never a valid one: a payload is a JSON object) and reads fill it in from the parent
 * (payloadOf), which retention keeps while such a copy exists (sql-retention.ts). Every copy of a
 * push is then written without the payload, and the lease and the settlement, which rewrite the
 * copy's row, rewrite no payload: with a 4.3 KB payload that row is ~5 KB and spills onto an
 * overflow page. A copy whose payload is edited (a parked copy, PUT …/messages/{id}) holds its
 * own. Only copies have a mapping_id.
 */
export const SHARED_PAYLOAD = '';

/** The payload a row is written with: none for a copy (see SHARED_PAYLOAD). */
export function storedPayload(row: Pick<MessageRow, 'mapping_id' | 'payload'>): string {
  return row.mapping_id === null ? row.payload : SHARED_PAYLOAD;
}

/** The row as written (a copy without its payload). */
export function storedRow(row: MessageRow): MessageRow {
  return row.mapping_id === null ? row : { ...row, payload: storedPayload(row) };
}

/**
 * A row's payload as reads show it: a copy's is its parent's, looked up by primary key within
 * the statement (the lease's RETURNING, a message, a listing's page). Null only if the parent
 * row is gone, which retention never lets happen (a damaged database).
 */
export function payloadOf(table: string) {
  const col = (c: string) => sql.ref(`${table}.${c}`);
  return sql<string>`CASE WHEN ${col('payload')} = ${sql.lit(SHARED_PAYLOAD)} AND ${col('parent_id')} IS NOT NULL
    THEN (SELECT p.payload FROM messages p WHERE p.id = ${col('parent_id')})
    ELSE ${col('payload')} END`;
}

/** The columns of a MessageRecord for a select from `messages`, the payload filled in (payloadOf). */
export const MESSAGE_SELECTION = MESSAGE_COLUMNS.map((c) =>
  c === 'payload' ? payloadOf('messages').as('payload') : c,
);

/** One message of a store, as the API shows it. */
export function messageById(db: Db, storeId: string, id: string): Promise<MessageRecord | undefined> {
  return db
    .selectFrom('messages')
    .select(MESSAGE_SELECTION)
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function claimQuery(db: Db, limit: number) {
  return db
    .selectFrom('messages')
    .select(MESSAGE_COLUMNS)
    .where('queue_name', '=', 'incoming')
    .orderBy('id')
    .limit(limit);
}

/** A new incoming message's row, written out in full: this runs once per pushed message. */
export function incomingRow(m: NewIncoming): MessageRow {
  return {
    id: m.id,
    store_id: m.store_id,
    message: m.message,
    payload: m.payload,
    extra: m.extra,
    queue_name: 'incoming',
    state: 'pending',
    source: null,
    origin: m.origin,
    parent_id: m.parent_id,
    mapping_id: null,
    consumer: null,
    depth: m.depth,
    attempts: 0,
    created_at: m.created_at,
    attempt_at: null,
    completed_at: null,
    locked_at: null,
    lease_owner: null,
    lease_expires_at: null,
    ordering_key: null,
    last_error: null,
    reason: null,
    result: null,
    update_url: null,
  };
}

/** An accepted copy of an incoming message, or its skipped duplicate child in the archive. */
export function copyRow(
  incoming: MessageRecord,
  copy: AcceptedCopy,
  now: number,
  duplicate: boolean,
): MessageRow {
  const row = incomingRow({
    id: copy.id,
    store_id: incoming.store_id,
    message: incoming.message,
    payload: incoming.payload,
    extra: incoming.extra,
    origin: incoming.origin,
    parent_id: incoming.id,
    depth: incoming.depth,
    created_at: now,
  });
  row.mapping_id = copy.mapping_id;
  row.consumer = copy.consumer;
  row.ordering_key = copy.ordering_key;
  if (duplicate) {
    row.queue_name = 'archived';
    row.state = 'skipped';
    row.source = 'accepted';
    row.reason = 'duplicate';
    row.completed_at = now;
  } else {
    row.queue_name = 'accepted';
    row.attempt_at = now;
  }
  return row;
}
