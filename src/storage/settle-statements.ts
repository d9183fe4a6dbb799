import { CompiledQuery } from 'kysely';
import type { Settlement } from './delivery-contract.js';
import type { Dialect } from './dialect.js';

/**
 * The two statements every delivery ends with — the settlement UPDATE and the attempt INSERT — as
 * SQL text written once per shape instead of a query built, walked and compiled by Kysely for each
 * message (that builder was about a tenth of the hub's CPU in a drain profile). The text is fixed
 * per (dialect, outcome kind, whether a result is kept, whether the attempt counts), so SQLite's
 * statement cache sees a handful of distinct statements all day. PostgreSQL writes a group commit's
 * settlements a few statements at a time instead (settleBatchQueries), as every statement there is
 * a round trip.
 */
type Marks = Pick<Dialect, 'name' | 'parameter'>;

const ATTEMPT_COLUMNS = [
  'id',
  'message_id',
  'store_id',
  'attempted_at',
  'duration_ms',
  'url',
  'status_code',
  'error',
  'response_excerpt',
] as const;

const texts = new Map<string, string>();

/** The text written with `?` marks, in the dialect's own marks. */
function placeholders(dialect: Marks, sqlWithMarks: string): string {
  let n = 0;
  return sqlWithMarks.replace(/\?/g, () => dialect.parameter(++n));
}

function cached(key: string, build: () => string): string {
  let text = texts.get(key);
  if (text === undefined) {
    text = build();
    texts.set(key, text);
  }
  return text;
}

/**
 * What a settlement sets, as SQL with `?` marks, their values and (for a PostgreSQL VALUES list,
 * which infers no column types) their types; `key` names the shape, which the values do not change.
 */
interface SettleShape {
  key: string;
  sets: string[];
  params: unknown[];
  types: string[];
}

function shapeOf(s: Settlement): SettleShape {
  const o = s.outcome;
  const counted = o.kind !== 'released';
  const keepResult = s.result !== undefined;
  const sets: string[] = ['lease_owner = NULL', 'lease_expires_at = NULL', 'locked_at = NULL'];
  const params: unknown[] = [];
  const types: string[] = [];
  const set = (column: string, value: unknown, type: 'text' | 'bigint') => {
    sets.push(`${column} = ?`);
    params.push(value);
    types.push(type);
  };
  if (keepResult) set('result', s.result, 'text');
  if (counted) sets.push('attempts = attempts + 1');
  switch (o.kind) {
    case 'completed':
      sets.push("queue_name = 'archived'", "source = 'accepted'", "state = 'completed'", 'update_url = NULL');
      set('completed_at', s.now, 'bigint');
      break;
    case 'scheduled':
      sets.push("state = 'scheduled'");
      set('attempt_at', o.attempt_at, 'bigint');
      set('update_url', o.update_url, 'text');
      break;
    case 'failing':
      sets.push("state = 'failing'");
      set('attempt_at', o.attempt_at, 'bigint');
      set('last_error', o.last_error, 'text');
      break;
    case 'parked':
      sets.push("state = 'parked'", 'attempt_at = NULL');
      set('last_error', o.last_error, 'text');
      set('reason', o.reason, 'text');
      break;
    case 'released':
      sets.push("state = 'pending'");
      set('attempt_at', s.now, 'bigint');
      break;
  }
  return { key: `${o.kind}:${keepResult}:${counted}`, sets, params, types };
}

/** UPDATE of a leased message to its outcome, guarded by the lease (0 rows: the lease was lost). */
export function settleQuery(dialect: Marks, s: Settlement): CompiledQuery {
  const shape = shapeOf(s);
  const text = cached(`${dialect.name}:settle:${shape.key}`, () =>
    placeholders(
      dialect,
      `UPDATE messages SET ${shape.sets.join(', ')} WHERE id = ? AND lease_owner = ? AND state = 'running'`,
    ),
  );
  return CompiledQuery.raw(text, [...shape.params, s.id, s.lease]);
}

/**
 * PostgreSQL: the settlements of one group commit in as few statements as they have shapes, not
 * one each. Each statement is an UPDATE … FROM (VALUES …) guarded by every row's lease, RETURNING
 * the ids it settled (a lease lost in the meantime settles nothing). Over a network connection
 * every statement is a round trip, and settlements come in hundreds. Ids must be distinct within
 * a call (a row updated twice by one UPDATE … FROM takes one of the values, undefined which).
 */
export function settleBatchQueries(group: readonly Settlement[]): CompiledQuery<{ id: string }>[] {
  const byShape = new Map<string, { shape: SettleShape; rows: { s: Settlement; shape: SettleShape }[] }>();
  for (const s of group) {
    const shape = shapeOf(s);
    const entry = byShape.get(shape.key) ?? { shape, rows: [] };
    entry.rows.push({ s, shape });
    byShape.set(shape.key, entry);
  }
  const queries: CompiledQuery<{ id: string }>[] = [];
  for (const { shape, rows } of byShape.values()) {
    let n = 0;
    let mark = 0;
    const sets = shape.sets.map((assignment) => assignment.replace('?', () => `v.p${mark++}`)).join(', ');
    const columns = ['id', 'lease', ...shape.types.map((_, i) => `p${i}`)].join(', ');
    const tuples: string[] = [];
    const params: unknown[] = [];
    for (const { s, shape: own } of rows) {
      const cells = [`$${++n}::text`, `$${++n}::text`, ...own.types.map((t) => `$${++n}::${t}`)];
      tuples.push(`(${cells.join(', ')})`);
      params.push(s.id, s.lease, ...own.params);
    }
    queries.push(
      CompiledQuery.raw(
        `UPDATE messages AS m SET ${sets} FROM (VALUES ${tuples.join(', ')}) AS v(${columns})
         WHERE m.id = v.id AND m.lease_owner = v.lease AND m.state = 'running' RETURNING m.id`,
        params,
      ) as CompiledQuery<{ id: string }>,
    );
  }
  return queries;
}

/** PostgreSQL: one multi-row INSERT of attempt rows (the target columns give the VALUES their types). */
export function attemptsBatchQuery(attempts: readonly NonNullable<Settlement['attempt']>[]): CompiledQuery {
  let n = 0;
  const tuples = attempts.map(() => `(${ATTEMPT_COLUMNS.map(() => `$${++n}`).join(', ')})`);
  return CompiledQuery.raw(
    `INSERT INTO attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`,
    attempts.flatMap((a) => ATTEMPT_COLUMNS.map((c) => a[c] ?? null)),
  );
}

/** INSERT of one attempt row. */
export function attemptQuery(dialect: Marks, a: NonNullable<Settlement['attempt']>): CompiledQuery {
  const text = cached(`${dialect.name}:attempt`, () =>
    placeholders(
      dialect,
      `INSERT INTO attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES (${ATTEMPT_COLUMNS.map(() => '?').join(', ')})`,
    ),
  );
  return CompiledQuery.raw(
    text,
    ATTEMPT_COLUMNS.map((c) => a[c] ?? null),
  );
}
