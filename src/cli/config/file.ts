import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { FieldErrors } from '../../errors.js';
import { library } from '../../library/index.js';
import {
  READ_ONLY as INTEGRATION_READ_ONLY,
  parseIntegration,
} from '../../pipeline/integrations/validation.js';
import { READ_ONLY as MAPPING_READ_ONLY, parseMapping } from '../../pipeline/mapping-validation.js';
import { parseParameter } from '../../pipeline/parameter-validation.js';
import { parseScheduler, IGNORED as SCHEDULER_READ_ONLY } from '../../pipeline/scheduler-validation.js';
import type { DataType } from '../../storage/delivery-contract.js';
import type { IntegrationFields, SchedulerFields } from '../../storage/integration-contract.js';
import type { MappingFields } from '../../storage/mapping-contract.js';

/**
 * Reading a configuration file (docs/configuration-as-code.md): one YAML document with the
 * sections `integrations`, `mappings`, `parameters` and `schedulers`, each a map keyed by name.
 * Every item is validated here, with the hub's own spec modules, before anything is sent to the
 * hub, and every problem is reported with its line, column and a JSON pointer into the file
 * (`/mappings/shop.orders/url`), so a file with an error changes nothing.
 */

export interface DesiredConfig {
  integrations: Map<string, IntegrationFields>;
  /** `integration`: the mapping belongs to that integration (created through its sign-up). */
  mappings: Map<string, { integration: string | null; fields: MappingFields }>;
  parameters: Map<string, { value: unknown; data_type: DataType }>;
  schedulers: Map<string, SchedulerFields>;
}

export interface FileProblem {
  line: number;
  col: number;
  pointer: string;
  reason: string;
}

export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
  constructor(
    readonly file: string,
    readonly problems: FileProblem[],
  ) {
    super(
      `${file} has ${problems.length} error${problems.length === 1 ? '' : 's'}; nothing was changed\n` +
        problems.map((p) => `${file}:${p.line}:${p.col}: ${p.pointer}: ${p.reason}`).join('\n'),
    );
  }
}

export const SECTIONS = ['integrations', 'mappings', 'parameters', 'schedulers'] as const;
type Section = (typeof SECTIONS)[number];
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const token = (t: string | number) => String(t).replaceAll('~', '~0').replaceAll('/', '~1');

export function readConfig(file: string, text: string): DesiredConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems: FileProblem[] = [];
  const at = (offset: number) => lines.linePos(offset);
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? at(e.pos[0]);
    problems.push({ line: pos.line, col: pos.col, pointer: '/', reason: e.message.split('\n')[0]! });
  }
  if (problems.length > 0) throw new ConfigFileError(file, problems);

  const report = (path: (string | number)[], reason: string, keyOf?: boolean) => {
    const pos = at(locate(doc, path, keyOf));
    problems.push({ line: pos.line, col: pos.col, pointer: `/${path.map(token).join('/')}`, reason });
  };
  const config: DesiredConfig = {
    integrations: new Map(),
    mappings: new Map(),
    parameters: new Map(),
    schedulers: new Map(),
  };
  const root: unknown = doc.toJS();
  // an alias to a node that encloses it (`zzz: &a {value: [*a]}`) makes a value that contains
  // itself: no JSON can hold it, and it failed only once the first items were already applied
  const loop = selfContaining(root);
  if (loop) {
    report(loop, 'contains itself (a YAML alias to a node around it): the hub stores plain JSON');
    throw new ConfigFileError(file, problems);
  }
  if (root !== null && root !== undefined && !isObject(root)) {
    report([], 'the file must be a map with the sections integrations, mappings, parameters, schedulers');
    throw new ConfigFileError(file, problems);
  }
  const top = (root ?? {}) as Json;
  for (const key of Object.keys(top)) {
    if (key === 'version') {
      if (top.version !== 1) report(['version'], 'must be 1 (the only format so far)');
    } else if (!(SECTIONS as readonly string[]).includes(key)) {
      report([key], `is not a section (use ${SECTIONS.join(', ')})`, true);
    }
  }
  for (const section of SECTIONS) {
    const items = top[section];
    if (items === undefined || items === null) continue;
    if (!isObject(items)) {
      report([section], 'must be a map of names to items');
      continue;
    }
    for (const [name, item] of Object.entries(items)) {
      const errors = readItem(config, section, name, item, (path, reason) =>
        report([section, name, ...path], reason),
      );
      for (const [pointer, reasons] of Object.entries(errors)) {
        const path = pointer === '/' ? [] : pointer.slice(1).split('/').map(unescapeToken);
        const isName = path.length === 1 && path[0] === 'name';
        for (const reason of reasons) {
          if (isName) report([section, name], reason, true);
          else report([section, name, ...itemPath(section, item, path)], reason);
        }
      }
    }
  }
  if (problems.length > 0) throw new ConfigFileError(file, problems);
  return config;
}

function unescapeToken(t: string): string | number {
  const s = t.replaceAll('~1', '/').replaceAll('~0', '~');
  return /^\d+$/.test(s) ? Number(s) : s;
}

/** A parameter written as a bare value has no `value` key in the file: its errors point at the item. */
function itemPath(section: Section, item: unknown, path: (string | number)[]): (string | number)[] {
  if (section === 'parameters' && !isObject(item) && path[0] === 'value') return path.slice(1);
  return path;
}

/** Validates one item into `config`; returns the spec's field errors (pointers relative to the item). */
function readItem(
  config: DesiredConfig,
  section: Section,
  name: string,
  item: unknown,
  report: (path: (string | number)[], reason: string) => void,
): FieldErrors {
  if (section === 'parameters') {
    let body: Json = { name, value: item };
    if (isObject(item)) {
      for (const key of Object.keys(item)) {
        if (key !== 'value' && key !== 'data_type') {
          report([key], 'is not allowed: a parameter is a value, or {value, data_type}');
        }
      }
      body = {
        name,
        value: item.value,
        ...(item.data_type === undefined ? {} : { data_type: item.data_type }),
      };
    }
    const parsed = parseParameter(body);
    if (!parsed.ok) return parsed.errors;
    config.parameters.set(name, { value: parsed.fields.value, data_type: parsed.fields.data_type });
    return {};
  }
  if (!isObject(item)) return { '/': ['must be a map of fields'] };
  // The API ignores the fields it sets itself (a GET answer may be PUT back as it is); a file
  // states what is wanted, so one there is refused, as an unknown field is, not silently dropped.
  const setByHub: readonly string[] =
    section === 'integrations'
      ? INTEGRATION_READ_ONLY
      : section === 'mappings'
        ? MAPPING_READ_ONLY
        : SCHEDULER_READ_ONLY;
  for (const key of Object.keys(item))
    if (setByHub.includes(key)) report([key], 'is set by the hub, not by a configuration file');
  if (item.name !== undefined && item.name !== name) {
    report(['name'], 'is the key of the entry: leave it out or make it equal to the key');
  }
  const body: Json = { ...item, name };
  if (section === 'integrations') {
    const parsed = parseIntegration(body);
    if (!parsed.ok) return parsed.errors;
    config.integrations.set(name, parsed.fields);
  } else if (section === 'mappings') {
    const { integration = null, ...rest } = body;
    if (integration !== null && (typeof integration !== 'string' || !name.startsWith(`${integration}.`))) {
      report(['integration'], `must be the integration whose name starts the mapping name (${name})`);
    }
    const parsed = parseMapping(rest);
    if (!parsed.ok) return parsed.errors;
    config.mappings.set(name, { integration: integration as string | null, fields: parsed.fields });
  } else {
    const parsed = parseScheduler(body);
    if (!parsed.ok) return parsed.errors;
    // the store's own schemas are checked by the hub when the scheduler is saved
    const issues = library.validate(parsed.fields.key, parsed.fields.payload);
    if (issues.length > 0) {
      const errors: FieldErrors = {};
      for (const i of issues) (errors[i.pointer || '/'] ??= []).push(i.message);
      return errors;
    }
    config.schedulers.set(name, parsed.fields);
  }
  return {};
}

/** Offset of the node at `path`, or of its deepest existing ancestor; with keyOf, of the map key. */
function locate(doc: Document, path: (string | number)[], keyOf = false): number {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n);
    if (keyOf && n === path.length && n > 0) {
      const parent = doc.getIn(prefix.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find(
          (p) => isScalar(p.key) && String(p.key.value) === String(prefix.at(-1)),
        );
        const range = (pair?.key as Node | undefined)?.range;
        if (range) return range[0];
      }
      continue;
    }
    const node = (n === 0 ? doc.contents : doc.getIn(prefix, true)) as Node | null | undefined;
    if (node && typeof node === 'object' && node.range) return node.range[0];
  }
  return 0;
}

/** The path of the first value that contains one of its own ancestors, if any. */
function selfContaining(root: unknown): (string | number)[] | undefined {
  const ancestors = new Set<object>();
  const walk = (value: unknown, path: (string | number)[]): (string | number)[] | undefined => {
    if (value === null || typeof value !== 'object') return undefined;
    if (ancestors.has(value)) return path;
    ancestors.add(value);
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    for (const [key, child] of entries) {
      const found = walk(child, [...path, key]);
      if (found) return found;
    }
    ancestors.delete(value);
    return undefined;
  };
  return walk(root, []);
}
