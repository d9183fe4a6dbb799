import { Document } from 'yaml';
import { DEFAULT_OPTIONS } from '../../pipeline/mapping-validation.js';
import { dataTypeOf } from '../../pipeline/parameter-validation.js';
import { type CurrentState, canonical, ownerOf } from './plan.js';

/**
 * `switchyard export`: the store as a configuration file `switchyard apply` reads back unchanged.
 * Values equal to their defaults are left out (a mapping's empty filters, an option at its
 * default, `enabled: true` …), so the file shows what was chosen; items are sorted by name so two
 * exports of the same store are byte-identical and diff well in version control.
 */
export function exportConfig(state: CurrentState, storeId: string): string {
  const byName = <T extends { name: string }>(list: T[]) =>
    [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const integrations = new Map<string, unknown>();
  for (const i of byName(state.integrations)) {
    integrations.set(i.name, {
      url: i.url,
      token: i.token,
      ...(i.category === 'custom' ? {} : { category: i.category }),
    });
  }

  const mappings = new Map<string, unknown>();
  for (const m of byName(state.mappings)) {
    const owner = ownerOf(m, state);
    const options = Object.fromEntries(
      Object.entries(m.options).filter(
        ([k, v]) => canonical(v) !== canonical(DEFAULT_OPTIONS[k as keyof typeof DEFAULT_OPTIONS]),
      ),
    );
    mappings.set(m.name, {
      ...(owner ? { integration: owner } : {}),
      url: m.url,
      token: m.token,
      messages: m.messages,
      // match_rule: all is the default, so only `any` is written
      ...(m.filters.length > 0
        ? {
            filters: m.filters.map(({ match_rule, ...f }) =>
              match_rule === 'any' ? { ...f, match_rule } : f,
            ),
          }
        : {}),
      ...(Object.keys(m.identifiers).length > 0 ? { identifiers: m.identifiers } : {}),
      ...(m.parameters !== null ? { parameters: m.parameters } : {}),
      ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(m.enabled ? {} : { enabled: false }),
      ...(m.required ? { required: true } : {}),
    });
  }

  const parameters = new Map<string, unknown>();
  for (const p of byName(state.parameters)) {
    // the short form `name: value` when the type is what the value implies, else {value, data_type}
    parameters.set(
      p.name,
      dataTypeOf(p.value) === p.data_type ? p.value : { value: p.value, data_type: p.data_type },
    );
  }

  const schedulers = new Map<string, unknown>();
  for (const s of byName(state.schedulers)) {
    schedulers.set(s.name, {
      key: s.key,
      ...(s.interval !== null ? { interval: s.interval } : { cron: s.cron }),
      ...(Object.keys(s.payload).length > 0 ? { payload: s.payload } : {}),
      ...(s.enabled ? {} : { enabled: false }),
    });
  }

  // Maps, not objects: an item named "__proto__" (a valid name) set an object's prototype and
  // was left out of the file, which apply --prune then deleted
  const doc = new Document({ version: 1, integrations, mappings, parameters, schedulers });
  doc.commentBefore =
    ` Switchyard configuration of store ${storeId} (switchyard export).\n` +
    ' Apply with: switchyard apply FILE --url URL --store ID --token T [--dry-run] [--prune]\n' +
    ' It holds endpoint tokens and parameter values: keep it private.';
  return doc.toString({ lineWidth: 0 });
}
