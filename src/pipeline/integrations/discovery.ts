import type { Storage } from '../../storage/contract.js';
import type {
  Integration,
  IntegrationDescriptor,
  IntegrationFields,
} from '../../storage/integration-contract.js';
import { type Mapping, untilUnchanged } from '../../storage/mapping-contract.js';
import { parseDescriptor, serviceUrl } from './descriptor.js';
import { type FetchOptions, fetchDescriptor } from './fetch.js';

/**
 * Loading an integration's descriptor (on create, on refresh, and when its URL changes) and keeping
 * its mappings in step with it.
 *
 * Decisions:
 * - a descriptor that fails to load or validate makes the integration `pending` with the reasons
 *   in `error_messages`, and keeps the last good services (and the mappings made from them, which
 *   go on delivering): an endpoint that is briefly down must not tear down a store's routing;
 * - a service that disappears from a good descriptor keeps its mapping: deleting a mapping is the
 *   store's call (it may hold queued messages and identifier keys). It is reported in `warnings`,
 *   not `error_messages`: the descriptor is fine, so the integration is `ready`;
 * - the URL and token of the integration's mappings belong to the integration (base URL + service
 *   path, integration token), so they follow a changed path, URL or token; everything else about a
 *   mapping (messages, filters, options …) is the store's once sign-up has seeded it.
 */

/** Service name of a mapping the integration owns (`<integration>.<service>`). */
export function serviceOf(integration: { name: string }, mapping: Mapping): string {
  return mapping.name.startsWith(`${integration.name}.`)
    ? mapping.name.slice(integration.name.length + 1)
    : mapping.name;
}

export async function ownedMappings(storage: Storage, integration: Integration): Promise<Mapping[]> {
  const all = await storage.listMappings(integration.store_id);
  return all.filter((m) => m.integration_id === integration.id);
}

export async function discover(
  fields: IntegrationFields,
  previous: Integration | undefined,
  owned: readonly Mapping[],
  now: number,
  options?: FetchOptions,
): Promise<IntegrationDescriptor> {
  const kept = {
    display: previous?.display ?? null,
    description: previous?.description ?? null,
    icon_url: previous?.icon_url ?? null,
    help: previous?.help ?? null,
    services: previous?.services ?? [],
    warnings: [],
    refreshed_at: now,
  };
  const fetched = await fetchDescriptor(fields.url, options);
  if (!fetched.ok) return { ...kept, status: 'pending', error_messages: [fetched.error] };
  const parsed = parseDescriptor(fetched.json, {
    integration: fields.name,
    url: fields.url,
    token: fields.token,
  });
  if (!parsed.ok) {
    return { ...kept, status: 'pending', error_messages: parsed.errors.map((e) => `endpoint.json ${e}`) };
  }
  const d = parsed.descriptor;
  const warnings: string[] = [];
  if (d.name !== null && d.name !== fields.name) {
    warnings.push(
      `endpoint.json names itself "${d.name}"; the hub keeps the name "${fields.name}" ` +
        `(mappings and parameters are named ${fields.name}.…)`,
    );
  }
  const names = new Set(d.services.map((s) => s.name));
  for (const m of owned) {
    const service = serviceOf(fields, m);
    if (!names.has(service)) {
      warnings.push(`service "${service}" is no longer in endpoint.json; its mapping "${m.name}" is kept`);
    }
  }
  return {
    status: 'ready',
    display: d.display,
    description: d.description,
    icon_url: d.icon_url,
    help: d.help,
    services: d.services,
    error_messages: null,
    warnings,
    refreshed_at: now,
  };
}

/** Points the integration's mappings at its current URL, paths and token; how many changed. */
export async function syncMappings(
  storage: Storage,
  integration: Integration,
  owned: readonly Mapping[],
  now: number,
): Promise<number> {
  let changed = 0;
  for (const read of owned) {
    // `owned` was read before endpoint.json was fetched: a mapping edited meanwhile is read again,
    // so the refresh sets its URL and token without undoing the edit (a mapping disabled during
    // the fetch came back enabled)
    let m: Mapping | undefined = read;
    const updated = await untilUnchanged(async () => {
      m ??= await storage.getMapping(read.store_id, read.id);
      const current = m;
      m = undefined; // a retry reads it again
      if (!current) return false;
      const service = integration.services.find((s) => s.name === serviceOf(integration, current));
      const url = service ? serviceUrl(integration.url, service.path) : current.url;
      if (url === current.url && current.token === integration.token) return false;
      const { id, store_id, integration_id, created_at, updated_at, version, ...fields } = current;
      await storage.updateMapping(store_id, id, { ...fields, url, token: integration.token }, now, version);
      return true;
    });
    if (updated) changed++;
  }
  return changed;
}
