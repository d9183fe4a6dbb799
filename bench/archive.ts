import Database from 'better-sqlite3';
import { MESSAGE_ROW_COLUMNS } from '../src/storage/sql-messages.js';
import { round } from './processes.js';

/**
 * Archive seeding for the large-database runs: writes `rows` archived messages straight into a
 * SQLite file whose schema the hub created (start it once on the file, stop it, seed, restart).
 * The rows are shaped like the hub's own after a long life, over the 30 days before now:
 * - 19 in 20 pushes were taken by a mapping: the incoming message archived `completed` (source
 *   incoming) and its accepted copy archived `completed` (source accepted, parent_id, mapping_id,
 *   consumer, one attempt, the endpoint's `{}` result) plus that attempt's row in `attempts`;
 * - 1 in 20 found no mapping: the incoming message archived `skipped`, reason `no mapping`.
 * Types are spread over eight families, a quarter of them `order:new` (the filtered listing's).
 * Ids are UUIDv7 of their creation time, so they sort before anything pushed after the seeding.
 */

const MINUTE = 60_000;
const SPAN_MS = 30 * 24 * 60 * MINUTE;
const BATCH = 20_000;

const ORDER = {
  order: {
    id: 'R154085346',
    number: 'R154085346',
    status: 'complete',
    channel: 'spree',
    email: 'spree@example.com',
    currency: 'USD',
    placed_on: '2014-02-03T17:29:15.219Z',
    totals: { item: 99.95, adjustment: 15, tax: 5, shipping: 0, payment: 114.95, order: 114.95 },
    line_items: [{ product_id: 'SPREE-T-SHIRT', name: 'Spree T-Shirt', quantity: 2, price: 19.99 }],
    shipping_address: {
      firstname: 'Joe',
      lastname: 'Smith',
      address1: '1234 Awesome Street',
      city: 'Hollywood',
      zipcode: '90210',
      country: 'US',
    },
  },
};
const PRODUCT = {
  product: {
    id: 'SPREE-T-SHIRT',
    name: 'Spree T-Shirt',
    sku: 'SPREE-T-SHIRT',
    price: 35,
    available_on: '2014-01-29T14:01:28.000Z',
  },
};
const SHIPMENT = {
  shipment: {
    id: '12836',
    order_id: 'R154085346',
    status: 'ready',
    tracking: '12345678',
    shipping_method: 'UPS Ground (USD)',
  },
};
const OTHER = { stock: { sku: 'SPREE-T-SHIRT', quantity: 12, location: 'default' } };

/** Message types with their payload text and share (out of 20). */
const TYPES: [string, string, number][] = [
  ['order:new', JSON.stringify(ORDER), 5],
  ['order:updated', JSON.stringify(ORDER), 3],
  ['product:new', JSON.stringify(PRODUCT), 2],
  ['product:updated', JSON.stringify(PRODUCT), 3],
  ['shipment:ready', JSON.stringify(SHIPMENT), 3],
  ['shipment:confirm', JSON.stringify(SHIPMENT), 1],
  ['stock:change', JSON.stringify(OTHER), 2],
  ['customer:new', JSON.stringify({ customer: { id: 'C-1', email: 'spree@example.com' } }), 1],
];
const TYPE_CYCLE = TYPES.flatMap(([type, payload, share]) =>
  Array.from({ length: share }, () => ({ type, payload })),
);

export interface SeedFigure {
  rows: number;
  attempts: number;
  seconds: number;
  rowsPerSecond: number;
  fileMiB: number;
}

export function seedArchive(file: string, storeId: string, rows: number): SeedFigure {
  const started = process.hrtime.bigint();
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const columns = new Set(
      (db.prepare('PRAGMA table_info(messages)').all() as { name: string }[]).map((c) => c.name),
    );
    const values = ROW_COLUMNS.filter((c) => columns.has(c));
    const missing = ROW_COLUMNS.filter((c) => !columns.has(c));
    if (missing.length > 0) throw new Error(`messages table lacks columns the seeding writes: ${missing}`);
    const insert = db.prepare(
      `INSERT INTO messages (${values.join(', ')}) VALUES (${values.map((c) => `@${c}`).join(', ')})`,
    );
    const attempt = db.prepare(
      `INSERT INTO attempts (id, message_id, store_id, attempted_at, duration_ms, url, status_code, error,
        response_excerpt) VALUES (?, ?, ?, ?, 3, 'http://127.0.0.1:9/service', 200, NULL, '{}')`,
    );
    const mappingId = uuidAt(Date.now() - SPAN_MS - MINUTE);
    const now = Date.now();
    const step = SPAN_MS / rows;
    let written = 0;
    let attempts = 0;
    let n = 0;
    const writeBatch = db.transaction((limit: number) => {
      while (written < limit) {
        const at = Math.floor(now - SPAN_MS + written * step);
        const { type, payload } = TYPE_CYCLE[n % TYPE_CYCLE.length]!;
        const taken = n % 20 !== 7 && written + 1 < rows;
        n++;
        const incomingId = uuidAt(at);
        insert.run(row(incomingId, storeId, type, payload, at, taken));
        written++;
        if (!taken) continue;
        const copyId = uuidAt(at + 1);
        insert.run(copy(copyId, incomingId, storeId, type, payload, at, mappingId));
        attempt.run(uuidAt(at + 2), copyId, storeId, at + 2);
        attempts++;
        written++;
      }
    });
    while (written < rows) writeBatch(Math.min(rows, written + BATCH));
    const seen = db.prepare('INSERT OR IGNORE INTO message_types_seen (store_id, message) VALUES (?, ?)');
    for (const [type] of TYPES) seen.run(storeId, type);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const pages = Number(db.pragma('page_count', { simple: true }));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      rows: written,
      attempts,
      seconds: round(seconds, 1),
      rowsPerSecond: Math.round(written / seconds),
      fileMiB: round((pageSize * pages) / 2 ** 20),
    };
  } finally {
    db.close();
  }
}

const ROW_COLUMNS = MESSAGE_ROW_COLUMNS;

type Row = Record<(typeof ROW_COLUMNS)[number], string | number | null>;

function row(id: string, storeId: string, type: string, payload: string, at: number, taken: boolean): Row {
  return {
    id,
    store_id: storeId,
    message: type,
    payload,
    extra: null,
    queue_name: 'archived',
    state: taken ? 'completed' : 'skipped',
    source: 'incoming',
    origin: 'push',
    parent_id: null,
    mapping_id: null,
    consumer: null,
    depth: 0,
    attempts: 0,
    created_at: at,
    attempt_at: null,
    completed_at: at + 5,
    locked_at: null,
    lease_owner: null,
    lease_expires_at: null,
    ordering_key: null,
    last_error: null,
    reason: taken ? null : 'no mapping',
    result: null,
    update_url: null,
  };
}

function copy(
  id: string,
  parentId: string,
  storeId: string,
  type: string,
  payload: string,
  at: number,
  mappingId: string,
): Row {
  return {
    ...row(id, storeId, type, payload, at + 1, true),
    source: 'accepted',
    parent_id: parentId,
    mapping_id: mappingId,
    consumer: 'bench.archived_service',
    attempts: 1,
    attempt_at: at + 1,
    completed_at: at + 8,
    result: '{}',
  };
}

/** A UUIDv7 for a given millisecond (random tail), as the hub's own ids are. */
function uuidAt(ms: number): string {
  const t = ms.toString(16).padStart(12, '0');
  const r = () =>
    Math.floor(Math.random() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  const variant = (8 + Math.floor(Math.random() * 4)).toString(16);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r().slice(1)}-${variant}${r().slice(1)}-${r()}${r()}${r()}`;
}
