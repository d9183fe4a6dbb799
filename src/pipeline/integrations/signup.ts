import { FieldErrorList, type FieldErrors } from '../../errors.js';
import { newId } from '../../ids.js';
import { pointerToken } from '../../json-pointer.js';
import type { Storage } from '../../storage/contract.js';
import type { DataType, Parameter } from '../../storage/delivery-contract.js';
import type {
  Integration,
  IntegrationService,
  ServiceParameter,
} from '../../storage/integration-contract.js';
import { type Mapping, type MappingFields, newMapping } from '../../storage/mapping-contract.js';
import { parseMapping } from '../mapping-validation.js';
import { serviceUrl } from './descriptor.js';
import { allowedProblem, coerceValue } from './values.js';

/**
 * Sign-up (`POST …/integrations/{id}/signup`, the original hub's "Enable"): `{parameters: {…},
 * enabled: [service names]}` creates or updates one mapping per enabled service and stores the
 * parameters as `<integration>.<name>`. Everything is validated before anything is written, and
 * written in one transaction (Storage.applySignup).
 *
 * Decisions:
 * - parameter keys may be given bare (`api_key`, as the original's form posted them) or prefixed
 *   (`mandrill.api_key`); string forms are accepted for typed parameters ("5", "true");
 * - a parameter the store already has keeps its value unless one is sent: signing up again (to add
 *   a service) does not need the secrets again, and a poll cursor an endpoint stored survives;
 * - a parameter neither sent nor stored takes its default; a required one (not `optional`) with no
 *   default is a 422 naming `/parameters/<name>`;
 * - a new mapping is seeded from the service's `recommends`; an existing one keeps the store's edits
 *   to routing (messages, filters, identifiers, options) and gets the integration's URL and token
 *   and `enabled: true`. A hand-made mapping that already has the name `<integration>.<service>` is
 *   adopted (it becomes the integration's); one owned by another integration is a 422;
 * - services not listed in `enabled` are left as they are (sign-up only adds).
 */

export interface SignupPlan {
  parameters: {
    name: string;
    value: unknown;
    data_type: DataType;
    existing: Parameter | undefined;
    /** A default for a parameter the store did not have: written only if it still has none. */
    isDefault: boolean;
  }[];
  mappings: { existing: Mapping | undefined; fields: MappingFields; adopt: boolean }[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function planSignup(
  integration: Integration,
  body: unknown,
  mappings: readonly Mapping[],
  stored: readonly Parameter[],
): { ok: true; plan: SignupPlan } | { ok: false; errors: FieldErrors } {
  const errors = new FieldErrorList();
  const input =
    isObject(body) && isObject(body.signup) && Object.keys(body).length === 1 ? body.signup : body;
  if (!isObject(input)) {
    errors.add('/', 'must be a JSON object: {"parameters": {…}, "enabled": [service names]}');
    return { ok: false, errors: errors.errors };
  }
  for (const key of Object.keys(input)) {
    if (!['parameters', 'enabled', 'store_id'].includes(key)) {
      errors.add(`/${pointerToken(key)}`, 'is not a known field');
    }
  }

  const services = enabledServices(integration, input.enabled, errors);
  const given = givenParameters(input.parameters, errors);
  const parameters = planParameters(integration, services, given, stored, errors);
  const planned = planMappings(integration, services, input.enabled as unknown[], mappings, errors);

  if (!errors.empty) return { ok: false, errors: errors.errors };
  return { ok: true, plan: { parameters, mappings: planned } };
}

/**
 * The parameters to write: each one sent (coerced to its declared type), then the default of each
 * one the enabled services declare that was neither sent nor stored.
 */
function planParameters(
  integration: Integration,
  services: readonly IntegrationService[],
  given: readonly [string, unknown][],
  stored: readonly Parameter[],
  errors: FieldErrorList,
): SignupPlan['parameters'] {
  const declared = new Map<string, ServiceParameter>();
  for (const s of integration.services)
    for (const p of s.parameters) if (!declared.has(p.name)) declared.set(p.name, p);
  const prefix = `${integration.name}.`;
  const storedByName = new Map(stored.map((p) => [p.name, p]));

  const parameters: SignupPlan['parameters'] = [];
  const sent = new Set<string>();
  for (const [key, value] of given) {
    const bare = key.startsWith(prefix) ? key.slice(prefix.length) : key;
    const spec = declared.get(bare);
    const at = `/parameters/${pointerToken(key)}`;
    if (!spec) {
      errors.add(at, "is not a parameter of this integration's services");
      continue;
    }
    sent.add(bare);
    const coerced = coerceValue(value, spec.data_type);
    if (!coerced.ok) {
      errors.add(at, coerced.problem);
      continue;
    }
    const notAllowed = allowedProblem(coerced.value, spec.allowed);
    if (notAllowed) errors.add(at, notAllowed);
    const name = prefix + bare;
    parameters.push({
      name,
      value: coerced.value,
      data_type: spec.data_type,
      existing: storedByName.get(name),
      isDefault: false,
    });
  }
  for (const service of services) {
    for (const spec of service.parameters) {
      const name = prefix + spec.name;
      if (sent.has(spec.name) || storedByName.has(name) || parameters.some((p) => p.name === name)) continue;
      if (spec.default !== null) {
        parameters.push({
          name,
          value: spec.default,
          data_type: spec.data_type,
          existing: undefined,
          isDefault: true,
        });
      } else if (!spec.optional) {
        errors.add(`/parameters/${pointerToken(spec.name)}`, `is required by the service ${service.name}`);
      }
    }
  }
  return parameters;
}

/**
 * One mapping per enabled service: the store's mapping of that name, given the integration's URL
 * and token, or a new one seeded from the service's recommends. Errors point at the service's
 * place in `enabled`.
 */
function planMappings(
  integration: Integration,
  services: readonly IntegrationService[],
  enabled: readonly unknown[],
  mappings: readonly Mapping[],
  errors: FieldErrorList,
): SignupPlan['mappings'] {
  const prefix = `${integration.name}.`;
  const planned: SignupPlan['mappings'] = [];
  services.forEach((service) => {
    const at = `/enabled/${enabled.indexOf(service.name)}`;
    const name = prefix + service.name;
    const url = serviceUrl(integration.url, service.path);
    const existing = mappings.find((m) => m.name === name);
    if (existing) {
      if (existing.integration_id !== null && existing.integration_id !== integration.id) {
        errors.add(at, `the mapping ${name} belongs to another integration`);
        return;
      }
      const { id, store_id, integration_id, created_at, updated_at, version, ...fields } = existing;
      planned.push({
        existing,
        fields: { ...fields, url, token: integration.token, enabled: true },
        adopt: existing.integration_id === null,
      });
      return;
    }
    if (service.recommends.messages.length === 0) {
      errors.add(at, `the service ${service.name} recommends no messages: create its mapping by hand`);
      return;
    }
    const parsed = parseMapping({ name, url, token: integration.token, ...service.recommends });
    if (!parsed.ok) {
      for (const [pointer, reasons] of Object.entries(parsed.errors)) {
        for (const reason of reasons) errors.add(at, `mapping ${pointer}: ${reason}`);
      }
      return;
    }
    planned.push({ existing: undefined, fields: parsed.fields, adopt: false });
  });
  return planned;
}

function enabledServices(
  integration: Integration,
  raw: unknown,
  errors: FieldErrorList,
): IntegrationService[] {
  if (raw === undefined || raw === null) {
    errors.add('/enabled', 'is required: the names of the services to sign up for');
    return [];
  }
  if (!Array.isArray(raw)) {
    errors.add('/enabled', 'must be an array of service names');
    return [];
  }
  const out: IntegrationService[] = [];
  raw.forEach((name, i) => {
    const service = integration.services.find((s) => s.name === name);
    if (!service) {
      const names = integration.services.map((s) => s.name).join(', ');
      errors.add(`/enabled/${i}`, `is not a service of this integration (services: ${names})`);
    } else if (!out.includes(service)) out.push(service);
  });
  return out;
}

/** `{name: value}`, or the `[{name, value}]` form endpoints use in replies. */
function givenParameters(raw: unknown, errors: FieldErrorList): [string, unknown][] {
  if (raw === undefined || raw === null) return [];
  if (isObject(raw)) return Object.entries(raw).filter(([, v]) => v !== null && v !== undefined);
  if (Array.isArray(raw)) {
    const out: [string, unknown][] = [];
    raw.forEach((p, i) => {
      if (isObject(p) && typeof p.name === 'string') {
        if (p.value !== null && p.value !== undefined) out.push([p.name, p.value]);
      } else errors.add(`/parameters/${i}`, 'must be {"name": …, "value": …}');
    });
    return out;
  }
  errors.add('/parameters', 'must be an object of parameter names and values');
  return [];
}

/**
 * Writes a planned sign-up, all of it or nothing (Storage.applySignup): a parameter default only
 * where the store still has none, mapping updates onto the version they were planned from
 * (MappingChanged when one moved on meanwhile: the caller plans again).
 */
export async function applySignup(
  storage: Storage,
  integration: Integration,
  plan: SignupPlan,
  now: number,
): Promise<void> {
  await storage.applySignup(
    integration.store_id,
    integration.id,
    {
      parameters: plan.parameters.map((p) => ({
        parameter: {
          id: p.existing?.id ?? newId(),
          store_id: integration.store_id,
          name: p.name,
          value: JSON.stringify(p.value),
          data_type: p.data_type,
          created_at: p.existing?.created_at ?? now,
          updated_at: now,
        },
        onlyIfAbsent: p.isDefault,
      })),
      mappings: plan.mappings.map((m) =>
        m.existing
          ? { id: m.existing.id, fields: m.fields, adopt: m.adopt, expectedVersion: m.existing.version }
          : { create: newMapping(m.fields, integration.store_id, now, integration.id) },
      ),
    },
    now,
  );
}
