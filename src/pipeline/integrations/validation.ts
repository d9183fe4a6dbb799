import { FieldErrorList, type FieldErrors } from '../../errors.js';
import { looksLikeId } from '../../ids.js';
import type { IntegrationFields } from '../../storage/integration-contract.js';
import { type Json, resourceObject } from '../resource-body.js';

/**
 * Validation of an integration as a client writes it: `{name, url, token, category}`, bare, wrapped
 * as `{"integration": …}`, or as the original's query string (`integration[name]=…`, turned into
 * an object by the route). Pointers are relative to the integration object.
 *
 * Decisions:
 * - `name` is 1–100 of `a–z 0–9 _ -`: it prefixes the integration's mappings (`<name>.<service>`)
 *   and parameters, and delivery reads it back as the mapping name's first dot-separated segment,
 *   so it cannot hold a dot; not UUID-shaped, since routes take an id or a name;
 * - `token` is required: it is the endpoint's key, sent with every delivery to its services;
 * - `category` is free-form ("only used for your reference" in the original), default `custom`;
 * - the name cannot change (it is baked into mapping and parameter names): create another;
 * - the descriptor's fields (`display`, `services` …) and the hub's (`id`, `status` …) are ignored
 *   on input, so a GET answer can be PUT back; anything else is "is not a known field".
 */

export const INTEGRATION_LIMITS = {
  nameLength: 100,
  urlLength: 2048,
  tokenLength: 1000,
  categoryLength: 100,
};
export const INTEGRATION_NAME = /^[a-z0-9_-]+$/;

const FIELDS = ['name', 'url', 'token', 'category'];
export const READ_ONLY = [
  'id',
  'store_id',
  'status',
  'display',
  'description',
  'icon_url',
  'help',
  'services',
  'error_messages',
  'warnings',
  'mappings',
  'refreshed_at',
  'created_at',
  'updated_at',
];

export type IntegrationParse = { ok: true; fields: IntegrationFields } | { ok: false; errors: FieldErrors };

/** `?integration[name]=…&integration[url]=…` as an object, or undefined when the query has none. */
export function integrationFromQuery(query: Record<string, unknown>): Json | undefined {
  const out: Json = {};
  for (const [key, value] of Object.entries(query)) {
    const m = /^integration\[([a-z_]+)\]$/.exec(key);
    if (m) out[m[1]!] = Array.isArray(value) ? value[0] : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function parseIntegration(body: unknown, base?: IntegrationFields): IntegrationParse {
  const errors = new FieldErrorList();
  const input = resourceObject(body, 'integration', [...FIELDS, ...READ_ONLY], errors);
  if (!input) return { ok: false, errors: errors.errors };
  const raw: Json = base ? { ...base } : {};
  for (const key of FIELDS) if (input[key] !== undefined && input[key] !== null) raw[key] = input[key];

  let name: string | undefined;
  if (base) {
    name = base.name;
    if (raw.name !== base.name) {
      errors.add('/name', 'cannot be changed (mappings and parameters carry it): create a new integration');
    }
  } else {
    name = text(raw.name, '/name', errors, INTEGRATION_LIMITS.nameLength);
    if (name !== undefined && !INTEGRATION_NAME.test(name)) {
      errors.add('/name', 'may contain only lower-case letters, digits, _ and -');
    } else if (name !== undefined && looksLikeId(name)) {
      errors.add('/name', 'must not have the shape of an id (a UUID)');
    }
  }
  const url = text(raw.url, '/url', errors, INTEGRATION_LIMITS.urlLength);
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      errors.add('/url', 'must be an absolute http or https URL');
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      errors.add('/url', 'must use http or https');
    }
    // the hub appends /endpoint.json and the services' paths to it: a query or a fragment would
    // end up in the middle of those URLs
    if (parsed && (parsed.search !== '' || parsed.hash !== '' || /[?#]/.test(url))) {
      errors.add('/url', 'must not have a query string or a fragment (the hub appends paths to it)');
    }
  }
  const token = text(raw.token, '/token', errors, INTEGRATION_LIMITS.tokenLength);
  const category =
    raw.category === undefined
      ? 'custom'
      : text(raw.category, '/category', errors, INTEGRATION_LIMITS.categoryLength);
  if (!errors.empty) return { ok: false, errors: errors.errors };
  return {
    ok: true,
    fields: { name: name!, url: url!.replace(/\/+$/, ''), token: token!, category: category! },
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
