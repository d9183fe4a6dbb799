import type { DataType } from '../../storage/delivery-contract.js';
import type {
  IntegrationService,
  ServiceParameter,
  ServiceRecommends,
} from '../../storage/integration-contract.js';
import type { MappingOptions } from '../../storage/mapping-contract.js';
import { DEFAULT_OPTIONS, parseMapping } from '../mapping-validation.js';
import { DATA_TYPES, isDataType, nameProblem } from '../parameter-validation.js';
import { coerceValue, compileAllowed } from './values.js';

/**
 * Reading an endpoint's `endpoint.json` (docs/integrations.md#what-endpointjson-may-contain lists what
 * is accepted).
 *
 * Lenient where that is harmless, strict where a mistake would produce a broken mapping:
 * - unknown keys are ignored anywhere (real files carry `produces`, `humanizers`, `event_details`…);
 * - the old or misspelt names real endpoints used are read as the documented ones: `paramaters`
 *   for `parameters`, `keys` for `recommends.messages`, `event_key` for `recommends.identifiers`,
 *   `allow_retries` for `options.retries_allowed`, and `shipment=>ready` for `shipment:ready`;
 *   bare keys beside `requires.parameters` (as AE has) are ignored;
 * - descriptive fields of the wrong type (display, description, icon_url, help) become null;
 * - what a mapping is built from (service name, path, recommends) is validated with the same
 *   rules as a mapping written through the API, so sign-up can never create an invalid mapping.
 * Problems are reported as `<JSON pointer into endpoint.json>: <reason>` strings.
 */

export const DESCRIPTOR_LIMITS = { services: 100, parametersPerService: 100, serviceName: 100, errors: 50 };

export interface DescriptorContext {
  /** The integration's name in the hub: the prefix of its mappings and parameters. */
  integration: string;
  url: string;
  token: string;
}

export interface ParsedDescriptor {
  name: string | null;
  display: string | null;
  description: string | null;
  icon_url: string | null;
  help: string | null;
  services: IntegrationService[];
}

export type DescriptorParse = { ok: true; descriptor: ParsedDescriptor } | { ok: false; errors: string[] };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The POST URL of a service: the integration URL (no trailing slash) plus the service path. */
export function serviceUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

export function parseDescriptor(json: unknown, ctx: DescriptorContext): DescriptorParse {
  const errors: string[] = [];
  const add = (pointer: string, reason: string) => {
    if (errors.length < DESCRIPTOR_LIMITS.errors) errors.push(`${pointer}: ${reason}`);
  };
  if (!isObject(json)) return { ok: false, errors: ['/: endpoint.json must be a JSON object'] };

  const services: IntegrationService[] = [];
  const list = json.services;
  if (list === undefined || list === null) add('/services', 'is required (the services of the endpoint)');
  else if (!Array.isArray(list)) add('/services', 'must be an array of services');
  else if (list.length === 0) add('/services', 'must list at least one service');
  else if (list.length > DESCRIPTOR_LIMITS.services) {
    add('/services', `must list at most ${DESCRIPTOR_LIMITS.services} services`);
  } else {
    const seen = new Set<string>();
    list.forEach((raw, i) => {
      const name = isObject(raw) ? raw.name : undefined;
      if (typeof name === 'string' && seen.has(name)) {
        add(`/services/${i}/name`, `"${name}" is used by another service`);
      }
      if (typeof name === 'string') seen.add(name);
      const service = parseService(raw, `/services/${i}`, ctx, add);
      if (service) services.push(service);
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    descriptor: {
      name: str(json.name),
      display: str(json.display),
      description: str(json.description),
      icon_url: str(json.icon_url),
      help: str(json.help),
      services,
    },
  };
}

type Add = (pointer: string, reason: string) => void;
const FILTER_KEYS = ['path', 'operator', 'value', 'match_rule'];

function parseService(raw: unknown, at: string, ctx: DescriptorContext, add: Add): IntegrationService | null {
  if (!isObject(raw)) {
    add(at, 'must be an object');
    return null;
  }
  let ok = true;
  const name = raw.name;
  if (typeof name !== 'string' || name.trim() === '') {
    add(`${at}/name`, 'is required (a non-empty string)');
    ok = false;
  } else if (name.length > DESCRIPTOR_LIMITS.serviceName) {
    add(`${at}/name`, `must be at most ${DESCRIPTOR_LIMITS.serviceName} characters`);
    ok = false;
  }
  let path = raw.path;
  if (typeof path !== 'string' || path.trim() === '') {
    add(`${at}/path`, 'is required (a path relative to the endpoint URL, e.g. /orders)');
    ok = false;
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) {
    // a service elsewhere would send the integration's token to another host
    add(`${at}/path`, 'must be a path relative to the endpoint URL, not an absolute URL');
    ok = false;
  } else if (!path.startsWith('/')) path = `/${path}`;

  const requires = isObject(raw.requires) ? raw.requires : {};
  const paramKey = 'parameters' in requires ? 'parameters' : 'paramaters';
  const parameters = parseParameters(requires[paramKey], `${at}/requires/${paramKey}`, ctx, add);
  // recommends are checked even when name or path are wrong, so one pass reports every problem
  const recommends = parseRecommends(raw.recommends, `${at}/recommends`, {
    ...ctx,
    service: ok ? (name as string) : 'service',
    path: ok ? (path as string) : '/',
    add,
  });
  if (!ok || !parameters || !recommends) return null;
  return {
    name: name as string,
    path: path as string,
    description: str(raw.description),
    parameters,
    recommends,
  };
}

function parseParameters(
  raw: unknown,
  at: string,
  ctx: DescriptorContext,
  add: Add,
): ServiceParameter[] | null {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    add(at, 'must be an array of parameters');
    return null;
  }
  if (raw.length > DESCRIPTOR_LIMITS.parametersPerService) {
    add(at, `must list at most ${DESCRIPTOR_LIMITS.parametersPerService} parameters`);
    return null;
  }
  const out: ServiceParameter[] = [];
  raw.forEach((p, j) => {
    const parsed = parseParameter(p, `${at}/${j}`, ctx, add);
    if (parsed) out.push(parsed);
  });
  return out.length === raw.length ? out : null;
}

function parseParameter(p: unknown, here: string, ctx: DescriptorContext, add: Add): ServiceParameter | null {
  const fail = (pointer: string, reason: string): null => {
    add(pointer, reason);
    return null;
  };
  if (!isObject(p)) return fail(here, 'must be an object');
  const problem = typeof p.name === 'string' ? nameProblem(`${ctx.integration}.${p.name}`) : 'is required';
  if (problem || typeof p.name !== 'string' || p.name === '') {
    return fail(`${here}/name`, problem ?? 'is required');
  }
  const type = (p.data_type ?? 'string') as DataType;
  if (!isDataType(type)) return fail(`${here}/data_type`, `must be one of ${DATA_TYPES.join(', ')}`);
  let value: unknown = null;
  if (p.default !== undefined && p.default !== null && p.default !== '') {
    const coerced = coerceValue(p.default, type);
    if (!coerced.ok) return fail(`${here}/default`, `${coerced.problem} (data_type ${type})`);
    value = coerced.value;
  }
  let allowed: string[] | string | null = null;
  if (Array.isArray(p.allowed)) allowed = p.allowed.map((a) => String(a));
  else if (typeof p.allowed === 'string' && p.allowed !== '') {
    if (!compileAllowed(p.allowed)) return fail(`${here}/allowed`, 'is not a valid regular expression');
    allowed = p.allowed;
  }
  return {
    name: p.name,
    description: str(p.description),
    data_type: type,
    default: value,
    allowed,
    optional: p.optional === true || p.optional === 'true',
  };
}

interface RecommendsContext extends DescriptorContext {
  service: string;
  path: string;
  add: Add;
}

/** `recommends`, validated by building the mapping sign-up would create from it. */
function parseRecommends(raw: unknown, at: string, ctx: RecommendsContext): ServiceRecommends | null {
  const r = isObject(raw) ? raw : {};
  const messagesKey = 'messages' in r ? 'messages' : 'keys';
  const identifiersKey = 'identifiers' in r ? 'identifiers' : 'event_key';
  const rawMessages = r[messagesKey] ?? [];
  const messages = Array.isArray(rawMessages)
    ? rawMessages.map((m) => (typeof m === 'string' ? m.replace('=>', ':') : m))
    : rawMessages;
  const options = isObject(r.options) ? { ...r.options } : r.options;
  if (isObject(options) && 'allow_retries' in options && !('retries_allowed' in options)) {
    options.retries_allowed = options.allow_retries;
  }
  // unknown option and filter keys are dropped, not errors: an endpoint may target a newer hub
  if (isObject(options)) {
    for (const key of Object.keys(options)) if (!(key in DEFAULT_OPTIONS)) delete options[key];
  }
  const filters = Array.isArray(r.filters)
    ? r.filters.map((f) =>
        isObject(f) ? Object.fromEntries(Object.entries(f).filter(([k]) => FILTER_KEYS.includes(k))) : f,
      )
    : r.filters;

  const empty = Array.isArray(messages) && messages.length === 0;
  const parsed = parseMapping({
    name: `${ctx.integration}.${ctx.service}`,
    url: serviceUrl(ctx.url, ctx.path),
    token: ctx.token,
    // a service may recommend no messages; its mapping is then made by hand (sign-up says so)
    messages: empty ? ['placeholder:none'] : messages,
    filters,
    identifiers: r[identifiersKey],
    options,
  });
  if (!parsed.ok) {
    const where: Record<string, string> = {
      '/name': `${at.replace(/\/recommends$/, '')}/name`,
      '/url': `${at.replace(/\/recommends$/, '')}/path`,
      '/messages': `${at}/${messagesKey}`,
      '/identifiers': `${at}/${identifiersKey}`,
    };
    for (const [pointer, reasons] of Object.entries(parsed.errors)) {
      const head = Object.keys(where).find((k) => pointer === k || pointer.startsWith(`${k}/`));
      const target = head ? where[head]! + pointer.slice(head.length) : `${at}${pointer}`;
      for (const reason of reasons) ctx.add(target, reason);
    }
    return null;
  }
  const given = isObject(options) ? Object.keys(options) : [];
  const picked: Partial<MappingOptions> = {};
  for (const key of given) {
    const k = key as keyof MappingOptions;
    (picked as Record<string, unknown>)[k] = parsed.fields.options[k];
  }
  return {
    messages: empty ? [] : parsed.fields.messages,
    identifiers: parsed.fields.identifiers,
    filters: parsed.fields.filters,
    options: picked,
  };
}
