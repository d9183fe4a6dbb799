import { CompiledQuery } from 'kysely';
import type { Settlement } from './delivery-contract.js';

/**
 * The two statements every delivery ends with — the settlement UPDATE and the attempt INSERT — as
 * SQL text written once per shape instead of a query built, walked and compiled by Kysely for each
 * message (that builder was about a tenth of the hub's CPU in a drain profile). The text is fixed
 * per (dialect, outcome kind, whether a result is kept, whether the attempt counts), so SQLite's
 * statement cache and PostgreSQL's driver see a handful of distinct statements all day.
 */
type Dialect = 'sqlite' | 'postgres';

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

function placeholders(dialect: Dialect, sqlWithMarks: string): string {
  if (dialect === 'sqlite') return sqlWithMarks;
  let n = 0;
  return sqlWithMarks.replace(/\?/g, () => `$${++n}`);
}

function cached(key: string, build: () => string): string {
  let text = texts.get(key);
  if (text === undefined) {
    text = build();
    texts.set(key, text);
  }
  return text;
}

/** UPDATE of a leased message to its outcome, guarded by the lease (0 rows: the lease was lost). */
export function settleQuery(dialect: Dialect, s: Settlement): CompiledQuery {
  const o = s.outcome;
  const counted = o.kind !== 'released';
  const keepResult = s.result !== undefined;
  const sets: string[] = ['lease_owner = NULL', 'lease_expires_at = NULL', 'locked_at = NULL'];
  const params: unknown[] = [];
  if (keepResult) {
    sets.push('result = ?');
    params.push(s.result);
  }
  if (counted) sets.push('attempts = attempts + 1');
  switch (o.kind) {
    case 'completed':
      sets.push("queue_name = 'archived'", "source = 'accepted'", "state = 'completed'", 'completed_at = ?');
      sets.push('update_url = NULL');
      params.push(s.now);
      break;
    case 'scheduled':
      sets.push("state = 'scheduled'", 'attempt_at = ?', 'update_url = ?');
      params.push(o.attempt_at, o.update_url);
      break;
    case 'failing':
      sets.push("state = 'failing'", 'attempt_at = ?', 'last_error = ?');
      params.push(o.attempt_at, o.last_error);
      break;
    case 'parked':
      sets.push("state = 'parked'", 'attempt_at = NULL', 'last_error = ?', 'reason = ?');
      params.push(o.last_error, o.reason);
      break;
    case 'released':
      sets.push("state = 'pending'", 'attempt_at = ?');
      params.push(s.now);
      break;
  }
  params.push(s.id, s.lease);
  const text = cached(`${dialect}:settle:${o.kind}:${keepResult}:${counted}`, () =>
    placeholders(
      dialect,
      `UPDATE messages SET ${sets.join(', ')} WHERE id = ? AND lease_owner = ? AND state = 'running'`,
    ),
  );
  return CompiledQuery.raw(text, params);
}

/** INSERT of one attempt row. */
export function attemptQuery(dialect: Dialect, a: NonNullable<Settlement['attempt']>): CompiledQuery {
  const text = cached(`${dialect}:attempt`, () =>
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
