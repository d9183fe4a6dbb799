import { jsonProblem } from '../../json-limits.js';
import { checkMessageType } from '../envelope.js';
import { RETRY_AFTER_CAP_SECONDS } from './backoff.js';

/**
 * Reads an endpoint's reply. Real endpoints built for the original hub answer in several shapes,
 * all accepted here (see docs/delivery.md):
 *   {message_id, messages: [{message, payload}, …], notifications: [...], parameters: [...]}
 *   {message_id, message: "product:in_stock", payload: {...}}          single-message legacy form
 *   {message_id, events: [...]}                                        legacy name of notifications
 *   {messages: [{message: "notification:info", payload: {subject}}]}   notifications as messages
 *   {parameters: {name: value}}                                        Wombat-style parameters
 *   {message_id, delay: 120, update_url: "/poll"}                      asynchronous: poll later
 * Any other top-level keys are kept as the message's `result` (the whole body is stored).
 */

export type Level = 'info' | 'warn' | 'error';

export interface ReplyMessage {
  message: string;
  payload: Record<string, unknown>;
  extra: Record<string, unknown> | null;
  /** Set when the entry cannot be a message; it is stored as an invalid child, never dropped. */
  invalid?: string;
}

export interface ReplyNotification {
  level: Level;
  subject: string;
  description: string | null;
  reference_type: string | null;
  reference_id: string | null;
  reference_token: string | null;
  /** Every field the endpoint sent, for the record. */
  attributes: Record<string, unknown>;
}

export interface ParsedReply {
  json: Record<string, unknown> | undefined;
  messages: ReplyMessage[];
  notifications: ReplyNotification[];
  parameters: { name: string; value: unknown }[];
  async: { delaySeconds: number; updateUrl: string | undefined } | undefined;
  /** Why the body is unusable although it announced JSON (a failed delivery). */
  malformed: string | undefined;
}

const MAX_PARAMETER_NAME = 200;
/** Messages one reply may bring (a poll endpoint's day of orders); more make the reply a failure. */
export const MAX_REPLY_MESSAGES = 10_000;

export function parseReply(contentType: string | undefined, body: string): ParsedReply {
  const out: ParsedReply = {
    json: undefined,
    messages: [],
    notifications: [],
    parameters: [],
    async: undefined,
    malformed: undefined,
  };
  const announced = !!contentType && /[/+]json\b/i.test(contentType);
  if (body.trim() === '') return out;
  let parsed: unknown;
  try {
    // a byte order mark (some Windows stacks write one) is no reason to fail a delivery
    parsed = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
  } catch (err) {
    if (announced) out.malformed = `reply announced JSON but is not: ${(err as Error).message}`;
    return out;
  }
  const problem = jsonProblem(parsed);
  if (problem) {
    out.malformed = `reply is JSON the hub cannot keep: ${problem.pointer} ${problem.reason}`;
    return out;
  }
  if (!isObject(parsed)) return out;
  out.json = parsed;

  // `messages` not a list is one entry (taken if it is a message, kept as invalid otherwise):
  // dropped, the endpoint's message would be lost without a trace
  const entries = Array.isArray(parsed.messages)
    ? parsed.messages
    : !none(parsed.messages)
      ? [parsed.messages]
      : typeof parsed.message === 'string'
        ? [{ message: parsed.message, payload: parsed.payload ?? {} }]
        : [];
  if (entries.length > MAX_REPLY_MESSAGES) {
    out.malformed = `reply carries ${entries.length} messages; the hub takes at most ${MAX_REPLY_MESSAGES} from one reply`;
    return out;
  }
  for (const entry of entries) {
    const m = toMessage(entry);
    const level = m.invalid ? undefined : notificationLevel(m.message);
    if (level) out.notifications.push(toNotification({ ...m.payload, level }));
    else out.messages.push(m);
  }

  const notes = parsed.notifications ?? parsed.events;
  for (const n of Array.isArray(notes) ? notes : isObject(notes) ? [notes] : []) {
    if (isObject(n)) out.notifications.push(toNotification(n));
  }

  out.parameters = toParameters(parsed.parameters);

  const delay =
    typeof parsed.delay === 'number'
      ? parsed.delay
      : typeof parsed.delay === 'string' && parsed.delay.trim() !== ''
        ? Number(parsed.delay)
        : NaN;
  if (Number.isFinite(delay) && delay >= 0) {
    out.async = {
      // at least a second (a delay of 0 polled in a tight loop), at most a day, as Retry-After (a
      // delay of 1e20 gave a due time no date can hold, and every listing showing it failed)
      delaySeconds: Math.min(Math.max(delay, 1), RETRY_AFTER_CAP_SECONDS),
      updateUrl: typeof parsed.update_url === 'string' ? parsed.update_url : undefined,
    };
  }
  return out;
}

/** An empty value — {}, "", false, 0 — is none, as PHP and Go endpoints often write it. */
function none(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === '' ||
    v === false ||
    v === 0 ||
    (isObject(v) && Object.keys(v).length === 0)
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function toMessage(entry: unknown): ReplyMessage {
  if (!isObject(entry))
    return { message: 'invalid:entry', payload: {}, extra: { entry }, invalid: 'not an object' };
  const { message, payload, message_id: _ignored, ...rest } = entry;
  const extra = Object.keys(rest).length > 0 ? rest : null;
  const typeReason = checkMessageType(message);
  if (typeReason) {
    return {
      message: 'invalid:message',
      payload: isObject(payload) ? payload : {},
      extra: { ...rest, message },
      invalid: `message ${typeReason}`,
    };
  }
  if (payload !== undefined && !isObject(payload)) {
    return {
      message: message as string,
      payload: {},
      extra: { ...rest, payload },
      invalid: 'payload must be an object',
    };
  }
  return { message: message as string, payload: (payload as Record<string, unknown>) ?? {}, extra };
}

function notificationLevel(type: string): Level | undefined {
  const m = /^notification:(info|warn|warning|error)$/.exec(type);
  if (!m) return undefined;
  return m[1] === 'warning' ? 'warn' : (m[1] as Level);
}

function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function toNotification(n: Record<string, unknown>): ReplyNotification {
  const rawLevel = String(n.level ?? 'info').toLowerCase();
  const level: Level =
    rawLevel === 'error' ? 'error' : rawLevel === 'warn' || rawLevel === 'warning' ? 'warn' : 'info';
  const description = text(n.description);
  return {
    level,
    subject: text(n.subject) ?? description ?? '(no subject)',
    description,
    reference_type: text(n.reference_type),
    reference_id: text(n.reference_id),
    reference_token: text(n.reference_token),
    attributes: n,
  };
}

function toParameters(raw: unknown): { name: string; value: unknown }[] {
  const list: { name: string; value: unknown }[] = [];
  const add = (name: unknown, value: unknown) => {
    if (
      typeof name === 'string' &&
      name.length > 0 &&
      name.length <= MAX_PARAMETER_NAME &&
      value !== undefined
    ) {
      list.push({ name, value });
    }
  };
  if (Array.isArray(raw)) for (const p of raw) if (isObject(p)) add(p.name, p.value);
  if (isObject(raw)) for (const [name, value] of Object.entries(raw)) add(name, value);
  return list;
}
