/**
 * The one catalog of error answers. Every non-2xx the API sends is built from an entry here, so
 * the wording stays identical across routes (and matches the original hub's where it had one).
 * docs/errors.md lists every code; a test keeps the two in step.
 */
export const ERRORS = {
  MALFORMED_JSON: { status: 400, message: 'Request body is not valid JSON.' },
  EMPTY_BODY: { status: 400, message: 'Request body is empty.' },
  INVALID_ENCODING: { status: 400, message: 'Request body is not valid UTF-8.' },
  BAD_URL: {
    status: 400,
    message: 'Request URL is not valid: a path segment is not properly percent-encoded.',
  },
  TOKEN_INVALID: { status: 401, message: 'Token is invalid.' },
  ADMIN_DISABLED: {
    status: 403,
    message: 'The admin API is disabled: set SWITCHYARD_ADMIN_TOKEN to enable it.',
  },
  STORE_NOT_FOUND: { status: 404, message: 'Store not found.' },
  MESSAGE_NOT_FOUND: { status: 404, message: 'Message not found.' },
  QUEUE_NOT_FOUND: { status: 404, message: 'Queue not found: use incoming, accepted or archived.' },
  TOKEN_NOT_FOUND: { status: 404, message: 'Token not found.' },
  SCHEMA_NOT_FOUND: { status: 404, message: 'Message type schema not found.' },
  SAMPLE_NOT_FOUND: { status: 404, message: 'No sample for that message type.' },
  MAPPING_NOT_FOUND: { status: 404, message: 'Mapping not found.' },
  ENDPOINT_NOT_FOUND: { status: 404, message: 'No mapping of this store delivers to that origin.' },
  PARAMETER_NOT_FOUND: { status: 404, message: 'Parameter not found.' },
  INTEGRATION_NOT_FOUND: { status: 404, message: 'Integration not found.' },
  SCHEDULER_NOT_FOUND: { status: 404, message: 'Scheduler not found.' },
  ROUTE_NOT_FOUND: { status: 404, message: 'The resource you were looking for could not be found.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed.' },
  INTEGRATION_PENDING: {
    status: 409,
    message: 'Integration is pending: its endpoint.json has not loaded (see error_messages).',
  },
  BODY_TOO_LARGE: { status: 413, message: 'Request body is too large.' },
  URI_TOO_LONG: { status: 414, message: 'A path segment of the request URL is longer than 500 characters.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type must be application/json.' },
  UNSUPPORTED_CHARSET: {
    status: 415,
    message: 'JSON must be sent as UTF-8: charset must be utf-8 or absent.',
  },
  INVALID_OBJECT: { status: 422, message: 'Invalid object.' },
  URL_REFUSED: {
    status: 422,
    message: "Endpoint URL refused by the hub's endpoint URL policy (docs/security.md).",
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests for this store.' },
  INTERNAL: { status: 500, message: 'Internal error.' },
  UNAVAILABLE: { status: 503, message: 'Service unavailable.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Field errors keyed by JSON pointer into the request body (or `/query/<name>` for the query string). */
export type FieldErrors = Record<string, string[]>;

export class HubError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly errors?: FieldErrors,
    message?: string,
  ) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
  }

  body(): { error: string; errors?: FieldErrors } {
    return this.errors ? { error: this.message, errors: this.errors } : { error: this.message };
  }
}

export function invalid(errors: FieldErrors): HubError {
  return new HubError('INVALID_OBJECT', errors);
}

/** Collects field errors; `throwIfAny` raises one 422 listing all of them. */
export class FieldErrorList {
  readonly errors: FieldErrors = {};
  add(pointer: string, reason: string): void {
    const list = (this.errors[pointer] ??= []);
    if (!list.includes(reason)) list.push(reason);
  }
  get empty(): boolean {
    return Object.keys(this.errors).length === 0;
  }
  throwIfAny(): void {
    if (!this.empty) throw invalid(this.errors);
  }
}
