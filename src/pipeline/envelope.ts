import type { FieldErrors } from '../errors.js';

/** A message type: two or more colon-separated lower-case segments (`order:new`, `spree:order:poll`). */
export const MESSAGE_TYPE = /^[a-z0-9_]+(?::[a-z0-9_]+)+$/;
export const MESSAGE_TYPE_MAX = 200;

export interface Envelope {
  message: string;
  payload: Record<string, unknown>;
  /** Every other top-level field the sender included (kept, echoed and stored). */
  extra: Record<string, unknown> | null;
}

export function checkMessageType(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > MESSAGE_TYPE_MAX) return `must be at most ${MESSAGE_TYPE_MAX} characters`;
  if (!MESSAGE_TYPE.test(value)) {
    return 'must be two or more colon-separated segments of lower-case letters, digits and underscores (e.g. order:new)';
  }
  return null;
}

/**
 * Checks the `{message, payload}` envelope every message shares, whatever its type. Field errors
 * are keyed by JSON pointer from the message root, like the library's payload errors.
 */
export function parseEnvelope(body: unknown): { envelope: Envelope } | { errors: FieldErrors } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { errors: { '/': ['must be a JSON object with message and payload'] } };
  }
  const record = body as Record<string, unknown>;
  const errors: FieldErrors = {};
  if (record.message === undefined) errors['/message'] = ['is required'];
  else {
    const reason = checkMessageType(record.message);
    if (reason) errors['/message'] = [reason];
  }
  const payload = record.payload;
  if (payload === undefined) errors['/payload'] = ['is required'];
  else if (!payload || typeof payload !== 'object' || Array.isArray(payload))
    errors['/payload'] = ['must be an object'];
  if (Object.keys(errors).length > 0) return { errors };

  let extra: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    if (key === 'message' || key === 'payload' || key === 'message_id') continue;
    // no prototype: a top-level field named "__proto__" is kept as a field like any other
    // (docs/design.md#http-api), where `{}[key] = …` set the object's prototype and dropped it
    extra ??= Object.create(null) as Record<string, unknown>;
    extra[key] = record[key];
  }
  return {
    envelope: { message: record.message as string, payload: payload as Record<string, unknown>, extra },
  };
}
