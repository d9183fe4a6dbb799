import type { DesiredConfig } from './file.js';
import { type HubApi, seg } from './hub-api.js';
import { type ApiIntegration, type ApiMapping, type CurrentState, currentState, type Plan } from './plan.js';

/**
 * Carries out a plan over the hub's HTTP API, in the order that keeps every step valid:
 *   1. parameters (a sign-up checks the integration's required parameters against the store's),
 *   2. integrations (created or updated; the hub loads their endpoint.json),
 *   3. mappings (an integration's through its sign-up, then set to the file's fields),
 *   4. schedulers,
 *   5. with --prune, deletions: mappings, schedulers, integrations, parameters.
 * The file was validated as a whole before this starts; what can still fail here is what only the
 * hub knows (an endpoint.json that does not load, a store schema a scheduler payload breaks). Apply
 * then stops with the hub's answer; running it again after the fix picks up where it stopped,
 * since every step compares before it writes.
 */
export async function applyPlan(api: HubApi, desired: DesiredConfig, plan: Plan): Promise<void> {
  const acts = (kind: string, name: string) =>
    plan.items.find((i) => i.kind === kind && i.name === name && i.action !== 'unchanged')?.action;

  for (const [name, p] of desired.parameters) {
    const action = acts('parameter', name);
    if (action === 'create') await api.post('parameters', { name, ...p });
    else if (action === 'update') await api.put(`parameters/${seg(name)}`, p);
  }

  for (const [name, fields] of desired.integrations) {
    const action = acts('integration', name);
    if (action === 'create') await api.post('integrations', fields);
    else if (action === 'update') {
      const { name: _, ...changes } = fields;
      await api.put(`integrations/${seg(name)}`, changes);
    }
  }

  let state = await currentState(api);
  for (const [name, want] of desired.mappings) {
    const action = acts('mapping', name);
    if (!action) continue;
    let have = state.mappings.find((m) => m.name === name);
    if (have && action === 'replace') {
      await api.delete(`mappings/${have.id}`);
      have = undefined;
    }
    if (want.integration !== null && (!have || have.integration_id === null)) {
      // created (or adopted) by the integration's sign-up, then given the file's fields below
      const integration = integrationOf(state, want.integration);
      const service = name.slice(want.integration.length + 1);
      await api.post(`integrations/${seg(integration.name)}/signup`, { enabled: [service] });
      state = await currentState(api);
      have = state.mappings.find((m) => m.name === name);
    }
    const body = want.fields;
    if (have) await api.put(`mappings/${have.id}`, body);
    else await api.post('mappings', body);
  }

  for (const [name, fields] of desired.schedulers) {
    const action = acts('scheduler', name);
    if (action === 'create') await api.post('schedulers', fields);
    else if (action === 'update') await api.put(`schedulers/${seg(name)}`, fields);
  }

  const deleted = (kind: string) =>
    plan.items.filter((i) => i.kind === kind && i.action === 'delete').map((i) => i.name);
  state = await currentState(api);
  for (const name of deleted('mapping')) {
    const m = state.mappings.find((x: ApiMapping) => x.name === name);
    if (m) await api.delete(`mappings/${m.id}`);
  }
  for (const name of deleted('scheduler')) await api.delete(`schedulers/${seg(name)}`);
  for (const name of deleted('integration')) await api.delete(`integrations/${seg(name)}`);
  for (const name of deleted('parameter')) await api.delete(`parameters/${seg(name)}`);
}

function integrationOf(state: CurrentState, name: string): ApiIntegration {
  const integration = state.integrations.find((i) => i.name === name);
  if (!integration) throw new Error(`integration ${name} is not in the store`);
  if (integration.status !== 'ready') {
    throw new Error(
      `integration ${name} is pending, so its mappings cannot be created yet: ` +
        `${(integration.error_messages ?? []).join('; ')}`,
    );
  }
  return integration;
}
