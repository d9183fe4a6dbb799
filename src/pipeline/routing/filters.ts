/**
 * Mapping filters (docs/routing.md#filters). This comment is the product's contract for filter semantics.
 *
 * A filter is `{path, operator, value, match_rule}`. All filters of a mapping must pass (AND).
 *
 * Target values. `path` (see paths.ts) yields a list of target values. `match_rule` `all` (the
 * default) needs every value to pass, `any` needs at least one. A path that yields nothing passes
 * only `empty`, under both rules (so `all` is not vacuously true for `neq` on a missing field).
 *
 * Stringification, used by eq/neq/begin/contains/end/match on both the target and the filter value:
 * strings as they are; numbers via `String()` (1.50 → "1.5"); booleans "true"/"false"; null → ""
 * (Ruby's `nil.to_s`, the original hub was Ruby, so `eq ""` matches null); arrays and objects →
 * JSON with object keys sorted (recursively). Sorting is a deliberate refinement of plain
 * `JSON.stringify`: key order is not information in JSON and is not preserved by every store
 * (Postgres jsonb reorders keys), so a filter must not depend on it. No Unicode normalisation and no
 * case folding: comparisons are code-unit exact, like the original's Ruby `==`.
 *
 * Operators:
 * - `eq` / `neq`: string equality / inequality of the stringified values.
 * - `gt` / `lt`: target > value / target < value as numbers. A number is a JSON number, or a string
 *   that is entirely a decimal number (optional sign, digits, optional fraction, optional exponent,
 *   surrounding white space allowed: " 15.99 ", "-1e3", ".5"). Anything else (booleans, null, "",
 *   "abc", "0x10", objects) makes that target value fail. This deliberately differs from the
 *   original's Ruby `to_f`, which read "abc" as 0.0 and so let garbage pass `lt 10`.
 * - `begin` / `contains` / `end`: prefix / substring / suffix of the stringified target.
 * - `present`: the target is not null, not "", not the string "null". Arrays and objects are present,
 *   even empty ones; 0 and false are present. `empty` is exactly the opposite. `value` is ignored.
 * - `match`: `value` is a regular expression, compiled once by compileFilter with re2js, a port of
 *   RE2 whose matching is linear in the input. That is the guard against catastrophic patterns
 *   (`(a+)+$`): no backtracking, so no timer is needed and matching cannot hang the hub. The dialect
 *   is RE2's (no look-around, no back-references; these are rejected when the filter is saved).
 *   `value` is a bare pattern (`^R\d+$`) or a `/pattern/flags` literal with flags from `i`, `m`, `s`;
 *   a value is read as a literal when it starts with `/` and its last `/` is followed only by ASCII
 *   letters. Matching is a search (unanchored), like JavaScript's `RegExp.prototype.test`. Patterns
 *   are limited to 1,000 characters.
 *
 * Validation (`checkFilter`) names the field and the reason, for the mappings API's 422.
 */
import { RE2JS } from 're2js';
import { type FilterSpec, type MatchRule, OPERATORS, type Operator } from '../../storage/mapping-contract.js';
import { type Path, parsePath, valuesAt } from './paths.js';

export { type FilterSpec, type MatchRule, OPERATORS, type Operator };

export interface FieldIssue {
  field: string;
  message: string;
}

export interface CompiledFilter {
  readonly spec: FilterSpec;
  readonly path: Path;
  test(values: unknown[]): boolean;
}

export type FilterVerdict =
  | { pass: true }
  | { pass: false; index: number; spec: FilterSpec; seen: unknown[] };

export const MAX_PATTERN_LENGTH = 1000;

export class FilterSpecError extends Error {
  override name = 'FilterSpecError';
  constructor(readonly issues: readonly FieldIssue[]) {
    super(
      `invalid filter: ${issues.map((i) => (i.field ? `${i.field} ${i.message}` : i.message)).join('; ')}`,
    );
  }
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    // fromEntries defines own properties, so a `__proto__` key stays data instead of a prototype.
    // (Integer-like keys still come first, ascending: JavaScript's own order, equally deterministic.)
    const record = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((k) => [k, record[k]]),
    );
  });
}

/** The stringification rule shared by filters and identifiers (see the contract above). */
export function stringifyValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'object') {
    try {
      return canonicalJson(value) ?? '';
    } catch {
      // Only reachable for values that did not come from JSON (cycles, BigInt inside objects).
      return String(value);
    }
  }
  return String(value);
}

// Written so that no two quantifiers compete for the same characters (`\d+\.?\d*` would, and
// backtracks quadratically on a long run of digits followed by junk: target values are untrusted).
const DECIMAL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A finite number, or undefined when the value is not numeric under the gt/lt rule. */
export function toNumber(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && DECIMAL.test(value)) n = Number(value);
  else return undefined;
  return Number.isFinite(n) ? n : undefined;
}

export function isPresent(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '' && value !== 'null';
}

const REGEX_FLAGS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
};
const REGEX_LITERAL = /^\/([\s\S]*)\/([A-Za-z]*)$/;

type Compiled<T> = { ok: true; value: T } | { ok: false; message: string };

function compileRegex(source: string): Compiled<RE2JS> {
  // Code points, like path lengths; the cheap code-unit test first avoids spreading a huge string.
  const length = source.length > MAX_PATTERN_LENGTH ? [...source].length : source.length;
  if (length > MAX_PATTERN_LENGTH) {
    return {
      ok: false,
      message: `regular expression is ${length} characters long, the maximum is ${MAX_PATTERN_LENGTH}`,
    };
  }
  let pattern = source;
  let flags = 0;
  const literal = REGEX_LITERAL.exec(source);
  if (literal) {
    pattern = literal[1] ?? '';
    for (const flag of literal[2] ?? '') {
      const bit = REGEX_FLAGS[flag];
      if (bit === undefined) {
        return { ok: false, message: `unsupported regular expression flag "${flag}" (allowed: i, m, s)` };
      }
      flags |= bit;
    }
  }
  try {
    return { ok: true, value: RE2JS.compile(pattern, flags) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `invalid regular expression: ${reason}` };
  }
}

type Predicate = (target: unknown) => boolean;

const isOperator = (value: unknown): value is Operator =>
  typeof value === 'string' && (OPERATORS as readonly string[]).includes(value);

/**
 * Validation and compilation share this one function so the two can never disagree: checkFilter
 * returns its issues, compileFilter its predicate.
 */
function prepare(input: unknown): { issues: FieldIssue[]; path?: Path; predicate?: Predicate } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { issues: [{ field: '', message: 'filter must be an object' }] };
  }
  const raw = input as Record<string, unknown>;
  const issues: FieldIssue[] = [];

  let path: Path | undefined;
  if (raw.path === undefined || raw.path === null) issues.push({ field: 'path', message: 'is required' });
  else if (typeof raw.path !== 'string') issues.push({ field: 'path', message: 'must be a string' });
  else {
    try {
      path = parsePath(raw.path);
    } catch (error) {
      issues.push({ field: 'path', message: error instanceof Error ? error.message : String(error) });
    }
  }

  const operator = raw.operator;
  if (operator === undefined || operator === null) {
    issues.push({ field: 'operator', message: 'is required' });
  } else if (!isOperator(operator)) {
    issues.push({ field: 'operator', message: `must be one of ${OPERATORS.join(', ')}` });
  }

  const rule = raw.match_rule;
  // null is accepted as "not set": UIs and older clients send explicit nulls for optional fields.
  if (rule !== undefined && rule !== null && rule !== 'all' && rule !== 'any') {
    issues.push({ field: 'match_rule', message: 'must be "all" or "any"' });
  }

  let predicate: Predicate | undefined;
  if (isOperator(operator)) {
    const built = buildPredicate(operator, raw.value);
    if (built.ok) predicate = built.value;
    else issues.push({ field: 'value', message: built.message });
  }
  return { issues, path, predicate };
}

function buildPredicate(operator: Operator, value: unknown): Compiled<Predicate> {
  if (operator === 'present') return { ok: true, value: isPresent };
  if (operator === 'empty') return { ok: true, value: (target) => !isPresent(target) };
  if (value === undefined || value === null) {
    return { ok: false, message: `is required for operator ${operator}` };
  }
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    return { ok: false, message: 'must be a string, number or boolean' };
  }
  if (operator === 'gt' || operator === 'lt') {
    const limit = toNumber(value);
    if (limit === undefined) return { ok: false, message: `must be a number for operator ${operator}` };
    const above = operator === 'gt';
    return {
      ok: true,
      value: (target) => {
        const n = toNumber(target);
        return n !== undefined && (above ? n > limit : n < limit);
      },
    };
  }
  const text = stringifyValue(value);
  switch (operator) {
    case 'eq':
      return { ok: true, value: (target) => stringifyValue(target) === text };
    case 'neq':
      return { ok: true, value: (target) => stringifyValue(target) !== text };
    case 'begin':
      return { ok: true, value: (target) => stringifyValue(target).startsWith(text) };
    case 'contains':
      return { ok: true, value: (target) => stringifyValue(target).includes(text) };
    case 'end':
      return { ok: true, value: (target) => stringifyValue(target).endsWith(text) };
    case 'match': {
      const regex = compileRegex(text);
      if (!regex.ok) return regex;
      const re = regex.value;
      return { ok: true, value: (target) => re.test(stringifyValue(target)) };
    }
  }
}

export function checkFilter(input: unknown): FieldIssue[] {
  return prepare(input).issues;
}

export function compileFilter(spec: FilterSpec): CompiledFilter {
  const { issues, path, predicate } = prepare(spec);
  if (issues.length > 0 || path === undefined || predicate === undefined) {
    throw new FilterSpecError(issues);
  }
  const any = spec.match_rule === 'any';
  const acceptsNothing = spec.operator === 'empty';
  return Object.freeze({
    spec: Object.freeze({ ...spec }),
    path,
    test(values: unknown[]): boolean {
      if (values.length === 0) return acceptsNothing;
      return any ? values.some(predicate) : values.every(predicate);
    },
  });
}

/**
 * AND of all filters, in order. The first failing filter is reported with every value its path
 * yielded, untruncated: shortening them for display is the caller's choice.
 */
export function applyFilters(filters: readonly CompiledFilter[], message: unknown): FilterVerdict {
  for (const [index, filter] of filters.entries()) {
    const seen = valuesAt(message, filter.path);
    if (!filter.test(seen)) return { pass: false, index, spec: filter.spec, seen };
  }
  return { pass: true };
}
