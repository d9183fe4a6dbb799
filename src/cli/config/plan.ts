import { MAPPING_FIELDS } from '../../pipeline/mapping-validation.js';
import { SCHEDULER_FIELDS } from '../../pipeline/scheduler-validation.js';
import type { DataType } from '../../storage/delivery-contract.js';
import type { MappingFields } from '../../storage/mapping-contract.js';
import type { DesiredConfig } from './file.js';
import type { HubApi } from './hub-api.js';

/**
 * The plan of `switchyard apply`: what the file asks for, compared with what the store has, item by
 * item and field by field. Both sides are normalised by the same spec modules (the hub's answers
 * are already normalised), so an item is `unchanged` exactly when applying it would change
 * nothing, which is what makes apply → export → apply a no-op.
 *
 * `replace` is a mapping whose owner changes from an integration to something else: the API cannot
 * detach a mapping, so it is deleted and created again. `kept` is an item only the store has,
 * left alone without --prune (with it, the item is a `delete`).
 */

export type Kind = 'integration' | 'mapping' | 'parameter' | 'scheduler';
export type Action = 'create' | 'update' | 'replace' | 'delete' | 'kept' | 'unchanged';

export interface PlanItem {
  kind: Kind;
  name: string;
  action: Action;
  /** The fields that differ (update, replace). */
  changes: string[];
}

export interface Plan {
  items: PlanItem[];
  /** Reasons the plan cannot be carried out; apply refuses to start when there are any. */
  conflicts: string[];
}

export interface ApiIntegration {
  id: string;
  name: string;
  url: string;
  token: string;
  category: string;
  status: string;
  error_messages: string[] | null;
  services: { name: string }[];
  mappings: { id: string; name: string; service: string }[];
}
export interface ApiMapping extends MappingFields {
  id: string;
  integration_id: string | null;
}
export interface ApiParameter {
  id: string;
  name: string;
  value: unknown;
  data_type: DataType;
}
export interface ApiScheduler {
  id: string;
  name: string;
  key: string;
  interval: number | null;
  cron: string | null;
  payload: Record<string, unknown>;
  enabled: boolean;
}

export interface CurrentState {
  integrations: ApiIntegration[];
  mappings: ApiMapping[];
  parameters: ApiParameter[];
  schedulers: ApiScheduler[];
}

export async function currentState(api: HubApi): Promise<CurrentState> {
  const [integrations, mappings, parameters, schedulers] = await Promise.all([
    api.get<ApiIntegration[]>('integrations'),
    api.get<ApiMapping[]>('mappings'),
    api.get<ApiParameter[]>('parameters'),
    api.get<ApiScheduler[]>('schedulers'),
  ]);
  return { integrations, mappings, parameters, schedulers };
}

// compared field by field; the name is the identity, not a field that changes
const MAPPING_COMPARED = MAPPING_FIELDS.filter((f) => f !== 'name');
const SCHEDULER_COMPARED = SCHEDULER_FIELDS.filter((f) => f !== 'name');

/** JSON with object keys sorted: equal values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function diff(
  want: Record<string, unknown>,
  have: Record<string, unknown>,
  fields: readonly string[],
): string[] {
  return fields.filter((f) => canonical(want[f] ?? null) !== canonical(have[f] ?? null));
}

export function ownerOf(m: ApiMapping, state: CurrentState): string | null {
  return state.integrations.find((i) => i.id === m.integration_id)?.name ?? null;
}

export function makePlan(desired: DesiredConfig, state: CurrentState, prune: boolean): Plan {
  const items: PlanItem[] = [];
  const conflicts: string[] = [];
  const add = (kind: Kind, name: string, action: Action, changes: string[] = []) =>
    items.push({ kind, name, action, changes });
  const compare = (kind: Kind, name: string, changes: string[]) =>
    add(kind, name, changes.length > 0 ? 'update' : 'unchanged', changes);

  for (const [name, want] of desired.integrations) {
    const have = state.integrations.find((i) => i.name === name);
    if (!have) add('integration', name, 'create');
    else compare('integration', name, diff({ ...want }, { ...have }, ['url', 'token', 'category']));
  }
  for (const [name, want] of desired.mappings) {
    const have = state.mappings.find((m) => m.name === name);
    const owner = have ? ownerOf(have, state) : null;
    if (want.integration !== null && !desired.integrations.has(want.integration)) {
      if (!state.integrations.some((i) => i.name === want.integration)) {
        conflicts.push(
          `mapping ${name}: the integration ${want.integration} is neither in the file nor in the store`,
        );
      } else if (prune) {
        conflicts.push(
          `mapping ${name}: its integration ${want.integration} is not in the file, so --prune would delete it`,
        );
      }
    }
    if (!have) add('mapping', name, 'create');
    else if (owner !== null && owner !== want.integration) add('mapping', name, 'replace', ['integration']);
    else {
      const changes = diff({ ...want.fields }, { ...have }, MAPPING_COMPARED);
      compare('mapping', name, owner === want.integration ? changes : ['integration', ...changes]);
    }
  }
  for (const [name, want] of desired.parameters) {
    const have = state.parameters.find((p) => p.name === name);
    if (!have) add('parameter', name, 'create');
    else compare('parameter', name, diff({ ...want }, { ...have }, ['value', 'data_type']));
  }
  for (const [name, want] of desired.schedulers) {
    const have = state.schedulers.find((s) => s.name === name);
    if (!have) add('scheduler', name, 'create');
    else compare('scheduler', name, diff({ ...want }, { ...have }, SCHEDULER_COMPARED));
  }

  onlyInStore(desired, state, prune, add, conflicts);
  return { items, conflicts };
}

/** What the store has and the file does not: deleted with --prune, else listed as kept. */
function onlyInStore(
  desired: DesiredConfig,
  state: CurrentState,
  prune: boolean,
  add: (kind: Kind, name: string, action: Action) => void,
  conflicts: string[],
): void {
  const action: Action = prune ? 'delete' : 'kept';
  for (const m of state.mappings) {
    if (desired.mappings.has(m.name)) continue;
    if (prune && m.required)
      conflicts.push(`mapping ${m.name} is required and cannot be pruned; set required: false first`);
    add('mapping', m.name, action);
  }
  for (const i of state.integrations)
    if (!desired.integrations.has(i.name)) add('integration', i.name, action);
  for (const p of state.parameters) if (!desired.parameters.has(p.name)) add('parameter', p.name, action);
  for (const s of state.schedulers) if (!desired.schedulers.has(s.name)) add('scheduler', s.name, action);
}

const KEPT_NOTE = 'not in the file; --prune would delete it';

const ORDER: Kind[] = ['integration', 'mapping', 'parameter', 'scheduler'];

export function formatPlan(plan: Plan): string {
  const rows = [...plan.items].sort(
    (a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || (a.name < b.name ? -1 : 1),
  );
  const lines = rows.map(
    (i) =>
      `  ${i.action.padEnd(9)} ${i.kind.padEnd(11)} ${i.name}` +
      (i.changes.length > 0 ? `  (${i.changes.join(', ')})` : '') +
      (i.action === 'kept' ? `  (${KEPT_NOTE})` : ''),
  );
  const count = (a: Action) => plan.items.filter((i) => i.action === a).length;
  const summary =
    `${count('create')} to create, ${count('update') + count('replace')} to update, ` +
    `${count('delete')} to delete, ${count('unchanged')} unchanged` +
    (count('kept') > 0 ? `, ${count('kept')} kept (not in the file; --prune would delete them)` : '');
  return [...lines, summary].join('\n');
}

export function hasChanges(plan: Plan): boolean {
  return plan.items.some((i) => i.action !== 'unchanged' && i.action !== 'kept');
}
