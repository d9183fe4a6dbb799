import { createHash } from 'node:crypto';
import { newId } from '../../ids.js';
import type { NewIncoming } from '../../storage/contract.js';
import type { LeasedMessage, Settlement, SettleOutcome } from '../../storage/delivery-contract.js';
import type { Mapping } from '../../storage/mapping-contract.js';
import { dataTypeOf, nameProblem, valueProblems } from '../parameter-validation.js';
import { nextDelayMs, parseRetryAfter } from './backoff.js';
import { type ParsedReply, parseReply, type ReplyNotification } from './reply.js';

/** A chain of replies deeper than this is a loop: the child is stored invalid instead of routed. */
export const MAX_DEPTH = 16;
/** How much of a reply is kept with each attempt, and as the message's result. */
export const EXCERPT_BYTES = 4096;
export const RESULT_BYTES = 256 * 1024;
/**
 * How much of a reply the hub reads, to take in its messages, notifications and parameters (a
 * poll endpoint may answer with a day's orders). Only RESULT_BYTES of it are kept as the result.
 * A longer reply is not read whole, and a JSON one is then a failure that says so.
 */
export const REPLY_BYTES = 8 * 1024 * 1024;

/** What one HTTP try produced. */
export interface TryResult {
  url: string;
  startedAt: number;
  durationMs: number;
  status?: number;
  contentType?: string;
  retryAfter?: string;
  body?: string;
  /** The reply went on past REPLY_BYTES: `body` holds its beginning only. */
  bodyCut?: boolean;
  /** Connection error, timeout or abort: no answer at all. */
  error?: string;
}

/**
 * Turns one try into a settlement: the pure heart of delivery, with every rule of docs/delivery.md#replies
 * and docs/delivery.md#failures-and-the-backoff (the states: docs/design.md#message-lifecycle).
 *   2xx, JSON with `delay`     → scheduled (poll update_url after delay seconds)
 *   2xx otherwise              → completed; reply messages, notifications and parameters taken in
 *   2xx announcing bad JSON    → failure
 *   anything else              → failure; notifications in the body still taken in
 * A failure parks when retries are not allowed, on 410 Gone, or when max_attempts or max_age is
 * reached; otherwise it is retried after the backoff (or Retry-After on 429/503).
 */
export function settle(
  m: LeasedMessage,
  mapping: Mapping,
  r: TryResult,
  now: number,
  random: number,
): Settlement {
  const body = r.body ?? '';
  const reply = r.status !== undefined ? parseReply(r.contentType, body) : undefined;
  // a JSON reply too long to read whole (a text one is fine: only its beginning is kept anyway)
  if (reply?.malformed && r.bodyCut)
    reply.malformed = `reply longer than ${REPLY_BYTES / 1024 / 1024} MiB: the hub reads no further, so its messages cannot be taken in`;
  const ok = r.status !== undefined && r.status >= 200 && r.status < 300 && !reply?.malformed;
  // The endpoint accepted the job but names a poll URL the hub will not use: parked, not retried
  // (a retry would POST the job to the endpoint again).
  const unusable =
    ok && reply?.async?.updateUrl !== undefined
      ? updateUrlProblem(reply.async.updateUrl, mapping.url)
      : undefined;
  const error = unusable
    ? `HTTP ${r.status}: ${unusable}`
    : ok
      ? null
      : (r.error ??
        (reply?.malformed
          ? `HTTP ${r.status}: ${reply.malformed}`
          : `HTTP ${r.status}${statusDetail(body)}`));

  let outcome: SettleOutcome;
  const o = mapping.options;
  if (unusable) {
    outcome = { kind: 'parked', last_error: error!, reason: unusable };
  } else if (ok && reply?.async && now - m.created_at >= o.max_age * 1000) {
    // an endpoint still "working on it" after max_age is not polled for ever
    const reason = `max_age (${o.max_age} s) reached while the endpoint was still working on it`;
    outcome = { kind: 'parked', last_error: reason, reason };
  } else if (ok && reply?.async) {
    const target = reply.async.updateUrl ?? m.update_url;
    outcome = {
      kind: 'scheduled',
      attempt_at: now + Math.round(reply.async.delaySeconds * 1000),
      update_url: target ?? null,
    };
  } else if (ok) {
    outcome = { kind: 'completed' };
  } else {
    outcome = failure(m, mapping, r, error!, now, random);
  }

  const settlement: Settlement = {
    id: m.id,
    store_id: m.store_id,
    lease: m.lease_owner,
    now,
    outcome,
    attempt: {
      id: newId(),
      message_id: m.id,
      store_id: m.store_id,
      attempted_at: r.startedAt,
      duration_ms: Math.round(r.durationMs),
      url: r.url,
      status_code: r.status ?? null,
      error,
      response_excerpt: r.status !== undefined ? truncate(body, EXCERPT_BYTES) : null,
    },
    result: r.status !== undefined ? truncate(body, RESULT_BYTES) : undefined,
    children: [],
    notifications: [],
    parameters: [],
  };
  if (reply) takeIn(settlement, m, mapping, reply, ok, now);
  return settlement;
}

function failure(
  m: LeasedMessage,
  mapping: Mapping,
  r: TryResult,
  error: string,
  now: number,
  random: number,
): SettleOutcome {
  const attempts = m.attempts + 1;
  const o = mapping.options;
  if (!o.retries_allowed) return { kind: 'parked', last_error: error, reason: 'retries not allowed' };
  if (r.status === 410) return { kind: 'parked', last_error: error, reason: 'endpoint answered 410 Gone' };
  if (o.max_attempts !== null && attempts >= o.max_attempts) {
    return { kind: 'parked', last_error: error, reason: `max_attempts (${o.max_attempts}) reached` };
  }
  if (now - m.created_at >= o.max_age * 1000)
    return { kind: 'parked', last_error: error, reason: `max_age (${o.max_age} s) reached` };
  const retryAfter = r.status === 429 || r.status === 503 ? parseRetryAfter(r.retryAfter, now) : undefined;
  return { kind: 'failing', attempt_at: now + nextDelayMs(attempts, random, retryAfter), last_error: error };
}

/** Reply contents: messages and parameters only from a success; notifications always. */
function takeIn(
  s: Settlement,
  m: LeasedMessage,
  mapping: Mapping,
  reply: ParsedReply,
  ok: boolean,
  now: number,
): void {
  const depth = m.depth + 1;
  const child = (
    message: string,
    payload: unknown,
    extra: Record<string, unknown> | null,
    origin: NewIncoming['origin'],
  ) => ({
    id: newId(),
    store_id: m.store_id,
    message,
    payload: JSON.stringify(payload),
    extra: extra ? JSON.stringify(extra) : null,
    origin,
    parent_id: m.id,
    depth,
    created_at: now,
  });
  if (ok) {
    for (const rm of reply.messages) {
      const invalid = rm.invalid ?? (depth > MAX_DEPTH ? 'loop' : undefined);
      s.children.push({
        ...child(rm.message, rm.payload, rm.extra, 'reply'),
        ...(invalid ? { invalid } : {}),
      });
    }
    for (const p of reply.parameters) {
      // a reply's parameter obeys the API's rules; one that does not is left out (and visible in the result)
      const dataType = dataTypeOf(p.value);
      if (nameProblem(p.name) || valueProblems(p.value, dataType).length > 0) continue;
      s.parameters.push({ name: p.name, value: JSON.stringify(p.value), data_type: dataType });
    }
  }
  for (const n of reply.notifications) {
    const message = child(
      `notification:${n.level}`,
      notificationPayload(n),
      { source: mapping.name },
      'notification',
    );
    s.notifications.push({
      record: {
        id: newId(),
        store_id: m.store_id,
        message_id: m.id,
        fingerprint: fingerprint(n),
        level: n.level,
        subject: n.subject,
        description: n.description,
        reference_type: n.reference_type,
        reference_id: n.reference_id,
        reference_token: n.reference_token,
        origin: mapping.name,
        attributes: JSON.stringify(n.attributes),
        occurrences: 1,
        logged_on: now,
        last_update: now,
      },
      message: depth > MAX_DEPTH ? { ...message, invalid: 'loop' } : message,
    });
  }
}

function notificationPayload(n: ReplyNotification): Record<string, unknown> {
  const payload: Record<string, unknown> = { subject: n.subject, description: n.description };
  if (n.reference_type !== null) payload.reference_type = n.reference_type;
  if (n.reference_id !== null) payload.reference_id = n.reference_id;
  if (n.reference_token !== null) payload.reference_token = n.reference_token;
  return payload;
}

function fingerprint(n: ReplyNotification): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        n.level,
        n.subject,
        n.description,
        n.reference_type,
        n.reference_id,
        n.reference_token,
      ]),
    )
    .digest('hex');
}

function statusDetail(body: string): string {
  const text = body.trim().replace(/\s+/g, ' ');
  return text ? `: ${truncate(text, 200)}` : '';
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * Where an asynchronous endpoint asks to be polled must be a URL on the mapping's own origin
 * (scheme, host and port): the hub POSTs the mapping's token and signature there, and a reply
 * naming another host (an internal address, say) would make the hub send them, and requests, to
 * whatever the reply says. Relative URLs resolve against the mapping URL.
 */
function updateUrlProblem(updateUrl: string, mappingUrl: string): string | undefined {
  let target: URL;
  try {
    target = new URL(updateUrl, mappingUrl);
  } catch {
    return `update_url ${JSON.stringify(updateUrl.slice(0, 200))} is not a URL`;
  }
  if (target.origin !== new URL(mappingUrl).origin)
    return `update_url ${JSON.stringify(updateUrl.slice(0, 200))} is not on the mapping's host (${new URL(mappingUrl).origin})`;
  return undefined;
}
