import { FieldErrorList, type FieldErrors } from '../errors.js';
import { pointerToken } from '../json-pointer.js';
import type { MappingFields, MappingOptions } from '../storage/mapping-contract.js';
import { isObject, type Json, resourceObject } from './resource-body.js';
import { checkFilter, type FilterSpec, type MatchRule, type Operator } from './routing/filters.js';
import { checkIdentifiers } from './routing/identifiers.js';
import { checkTypePattern } from './routing/message-types.js';
import { parsePath } from './routing/paths.js';

/**
 * Validation of a mapping as a client writes it; docs/routing.md#fields is the user-facing
 * account. Field errors are JSON pointers relative to the mapping object, whether the body was bare
 * or wrapped in `{"mapping": …}`, so a client gets the same pointers either way.
 *
 * Decisions:
 * - unknown fields are rejected ("is not a known field"): a typo such as `filter` for `filters`
 *   would otherwise be silently dropped and the mapping would take everything;
 * - the fields the hub sets (`id`, `store_id`, `integration_id`, `created_at`, `updated_at`,
 *   `version`) are ignored on input, so a GET answer can be edited and PUT back as it is;
 * - null means "not set" for every optional field (default applies), as UIs send explicit nulls;
 * - `required: true` with `enabled: false` is invalid: a required mapping cannot be disabled.
 */

const DAY = 24 * 60 * 60;
export const MAPPING_LIMITS = {
  nameLength: 200,
  urlLength: 2048,
  tokenLength: 1000,
  messages: 100,
  filters: 50,
  parameters: 200,
  parameterNameLength: 200,
  maxTimeoutMs: 600_000,
  maxConcurrency: 1000,
  maxSeconds: 365 * DAY,
  signingSecretMin: 16,
  signingSecretMax: 1000,
} as const;

export const DEFAULT_OPTIONS: MappingOptions = {
  retries_allowed: true,
  timeout_ms: 180_000,
  max_attempts: null,
  max_age: 7 * DAY,
  concurrency: 10,
  ordering_key: null,
  signing_secret: null,
  identifier_ttl: 30 * DAY,
  format: 'augury',
};

/** The fields a mapping body may set (the rest are read-only). */
export const MAPPING_FIELDS = [
  'name',
  'url',
  'token',
  'messages',
  'filters',
  'identifiers',
  'parameters',
  'options',
  'enabled',
  'required',
] as const;
const FIELDS: readonly string[] = MAPPING_FIELDS;
export const READ_ONLY = ['id', 'store_id', 'integration_id', 'created_at', 'updated_at', 'version'];
const OPTION_NAMES = Object.keys(DEFAULT_OPTIONS);
const FILTER_FIELDS = ['path', 'operator', 'value', 'match_rule'];

export type MappingParse = { ok: true; fields: MappingFields } | { ok: false; errors: FieldErrors };

/**
 * Validates a full mapping (POST), or a partial one merged onto `base` (PUT): top-level fields
 * replace the stored ones, `options` are merged option by option (a null option resets it to its
 * default), and the result is validated as a whole.
 */
export function parseMapping(body: unknown, base?: MappingFields): MappingParse {
  const errors = new FieldErrorList();
  const input = resourceObject(body, 'mapping', [...FIELDS, ...READ_ONLY], errors);
  if (!input) return { ok: false, errors: errors.errors };
  let raw: Json = input;
  if (base) {
    raw = { ...base };
    for (const key of FIELDS) if (key in input) raw[key] = input[key];
    if (isObject(input.options)) raw.options = { ...base.options, ...input.options };
  }

  const name = text(raw.name, '/name', errors, MAPPING_LIMITS.nameLength);
  // a name is printed by the CLI, logged and shown on the dashboard: a newline or an escape
  // sequence in it could forge a line of a plan or a log
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it finds
  if (name !== undefined && /[\u0000-\u001f\u007f]/.test(name))
    errors.add('/name', 'must not contain control characters (newlines, tabs, escapes)');
  const url = text(raw.url, '/url', errors, MAPPING_LIMITS.urlLength);
  if (url !== undefined) checkUrl(url, errors);
  const token = text(raw.token, '/token', errors, MAPPING_LIMITS.tokenLength);
  const messages = checkMessages(raw.messages, errors);
  const filters = checkFilters(raw.filters, errors);
  const identifiers = checkIdentifierMap(raw.identifiers, errors);
  const parameters = checkParameters(raw.parameters, errors);
  const options = checkOptions(raw.options, errors);
  const enabled = flag(raw.enabled, '/enabled', true, errors);
  const required = flag(raw.required, '/required', false, errors);
  if (required && !enabled) errors.add('/enabled', 'a required mapping cannot be disabled');

  if (!errors.empty) return { ok: false, errors: errors.errors };
  return {
    ok: true,
    fields: {
      name: name!,
      url: url!,
      token: token!,
      messages,
      filters,
      identifiers,
      parameters,
      options,
      enabled,
      required,
    },
  };
}

function text(value: unknown, pointer: string, errors: FieldErrorList, max: number): string | undefined {
  if (value === undefined || value === null) errors.add(pointer, 'is required');
  else if (typeof value !== 'string') errors.add(pointer, 'must be a string');
  else if (value.trim() === '') errors.add(pointer, 'must not be blank');
  else if (value.length > max) errors.add(pointer, `must be at most ${max} characters`);
  else return value;
  return undefined;
}

function checkUrl(value: string, errors: FieldErrorList): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    errors.add('/url', 'must be an absolute http or https URL');
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') errors.add('/url', 'must use http or https');
}

function flag(value: unknown, pointer: string, fallback: boolean, errors: FieldErrorList): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') errors.add(pointer, 'must be true or false');
  return value === true;
}

function checkMessages(value: unknown, errors: FieldErrorList): string[] {
  if (value === undefined || value === null) {
    errors.add('/messages', 'is required');
    return [];
  }
  if (!Array.isArray(value)) {
    errors.add('/messages', 'must be an array of message types or patterns');
    return [];
  }
  if (value.length === 0) errors.add('/messages', 'must list at least one message type');
  if (value.length > MAPPING_LIMITS.messages) {
    errors.add('/messages', `must list at most ${MAPPING_LIMITS.messages} types`);
  }
  value.forEach((pattern, i) => {
    const problem = checkTypePattern(pattern);
    if (problem) errors.add(`/messages/${i}`, problem);
  });
  return [...new Set(value as string[])];
}

function checkFilters(value: unknown, errors: FieldErrorList): FilterSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.add('/filters', 'must be an array of filters');
    return [];
  }
  if (value.length > MAPPING_LIMITS.filters) {
    errors.add('/filters', `must have at most ${MAPPING_LIMITS.filters} filters`);
  }
  return value.map((filter: unknown, i) => {
    for (const issue of checkFilter(filter)) {
      errors.add(issue.field ? `/filters/${i}/${issue.field}` : `/filters/${i}`, issue.message);
    }
    if (!isObject(filter)) return { path: '', operator: 'eq' };
    for (const key of Object.keys(filter)) {
      if (!FILTER_FIELDS.includes(key))
        errors.add(`/filters/${i}/${pointerToken(key)}`, 'is not a known field');
    }
    // Normalised: match_rule spelled out, value dropped when absent (present/empty need none).
    const spec: FilterSpec = {
      path: filter.path as string,
      operator: filter.operator as Operator,
      match_rule: (filter.match_rule ?? 'all') as MatchRule,
    };
    if (filter.value !== undefined && filter.value !== null) spec.value = filter.value;
    return spec;
  });
}

function checkIdentifierMap(value: unknown, errors: FieldErrorList): Record<string, string> {
  if (value === undefined || value === null) return {};
  for (const issue of checkIdentifiers(value)) {
    errors.add(issue.field ? `/identifiers/${pointerToken(issue.field)}` : '/identifiers', issue.message);
  }
  return isObject(value) ? (value as Record<string, string>) : {};
}

function checkParameters(value: unknown, errors: FieldErrorList): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    errors.add('/parameters', 'must be an array of parameter names');
    return null;
  }
  if (value.length > MAPPING_LIMITS.parameters) {
    errors.add('/parameters', `must list at most ${MAPPING_LIMITS.parameters} names`);
  }
  value.forEach((name, i) => {
    if (typeof name !== 'string' || name.trim() === '')
      errors.add(`/parameters/${i}`, 'must be a non-empty string');
    else if (name.length > MAPPING_LIMITS.parameterNameLength) {
      errors.add(`/parameters/${i}`, `must be at most ${MAPPING_LIMITS.parameterNameLength} characters`);
    }
  });
  return [...new Set(value as string[])];
}

function checkOptions(value: unknown, errors: FieldErrorList): MappingOptions {
  const options: MappingOptions = { ...DEFAULT_OPTIONS };
  if (value === undefined || value === null) return options;
  if (!isObject(value)) {
    errors.add('/options', 'must be an object');
    return options;
  }
  for (const key of Object.keys(value)) {
    if (!OPTION_NAMES.includes(key)) errors.add(`/options/${pointerToken(key)}`, 'is not a known option');
  }
  const set = <K extends keyof MappingOptions>(key: K, check: (v: unknown) => string | null) => {
    const v = value[key];
    if (v === undefined || v === null) return;
    const problem = check(v);
    if (problem) errors.add(`/options/${key}`, problem);
    else options[key] = v as MappingOptions[K];
  };
  const integer =
    (min: number, max: number, unit = '') =>
    (v: unknown) =>
      Number.isInteger(v) && (v as number) >= min && (v as number) <= max
        ? null
        : `must be an integer from ${min} to ${max}${unit}`;
  set('retries_allowed', (v) => (typeof v === 'boolean' ? null : 'must be true or false'));
  set('timeout_ms', integer(1, MAPPING_LIMITS.maxTimeoutMs, ' (milliseconds)'));
  set('max_attempts', integer(1, 1_000_000));
  set('max_age', integer(1, MAPPING_LIMITS.maxSeconds, ' (seconds)'));
  set('concurrency', integer(1, MAPPING_LIMITS.maxConcurrency));
  set('ordering_key', (v) => {
    if (typeof v !== 'string') return 'must be a path such as payload.order.number';
    try {
      parsePath(v);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  });
  set('signing_secret', (v) =>
    typeof v === 'string' &&
    v.length >= MAPPING_LIMITS.signingSecretMin &&
    v.length <= MAPPING_LIMITS.signingSecretMax
      ? null
      : `must be a string of ${MAPPING_LIMITS.signingSecretMin} to ${MAPPING_LIMITS.signingSecretMax} characters`,
  );
  set('identifier_ttl', integer(1, MAPPING_LIMITS.maxSeconds, ' (seconds)'));
  set('format', (v) => (v === 'augury' ? null : 'must be "augury" (the only format supported so far)'));
  return options;
}
