import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { Ajv2020 } from './ajv.js';
import { createAjv } from './ajv.js';
import type { PayloadValidator, SchemaIssue } from './issues.js';
import { pointerSegment, toIssues } from './issues.js';
import { linearRegExp } from './linear-regexp.js';

/**
 * Limits on schemas that stores register for their message types. Ajv turns a schema into code, so a tenant's
 * schema is untrusted input: these caps bound compile time and memory. Depth counts nested objects/arrays,
 * the root being 1. Patterns run on every payload, in linear time (linear-regexp.ts: RE2's engine, so a
 * pattern cannot backtrack catastrophically); long ones are refused all the same. `uniqueItems` compares
 * every pair of items unless the items are of scalar types, so it needs those or a bounded `maxItems`.
 */
export const STORE_SCHEMA_LIMITS: {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxPattern: number;
  readonly maxUniqueItems: number;
} = Object.freeze({ maxBytes: 64 * 1024, maxDepth: 32, maxPattern: 256, maxUniqueItems: 1000 });

const ROOT = '/schema';
const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** Thrown by StoreSchemaCache.validator for a schema that checkStoreSchema would reject. */
export class StoreSchemaError extends Error {
  readonly issues: SchemaIssue[];
  constructor(issues: SchemaIssue[]) {
    super(`invalid store schema: ${issues.map((i) => `${i.pointer} ${i.message}`).join('; ')}`);
    this.name = 'StoreSchemaError';
    this.issues = issues;
  }
}

/**
 * Checks a schema a store wants to register. Pointers are into the submitted schema, prefixed "/schema".
 * Cheap checks run first and stop early, so a huge or hostile document never reaches the meta-schema
 * validator or the compiler. A schema that passes is also compiled once, which catches what the meta-schema
 * cannot (a local $ref to a missing definition, a pattern that is not a valid unicode regular expression).
 */
export function checkStoreSchema(schema: unknown): SchemaIssue[] {
  const issues = preflight(schema);
  if (issues.length > 0) return issues;
  try {
    compileIsolated(schema as object);
  } catch (err) {
    return [{ pointer: ROOT, message: `cannot be compiled: ${(err as Error).message}` }];
  }
  return [];
}

/**
 * Compiled store schemas, keyed by the caller (the key must change when the schema changes, e.g. include a
 * version), bounded by LRU eviction.
 *
 * Each schema is compiled in its own Ajv instance with `addUsedSchema: false`. The alternative, one shared
 * instance plus `removeSchema` on eviction, leaks: Ajv keeps every compiled function's regexps and generated
 * code in the instance's shared value scope, which `removeSchema` never shrinks, so a tenant replacing schemas
 * would grow memory forever. A private instance is dropped whole when its entry is evicted, and schemas
 * cannot see or collide with one another. The price is about one extra Ajv construction per compile, which
 * happens once per schema version.
 */
export class StoreSchemaCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, PayloadValidator>();

  constructor(maxEntries = 500) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The validator for `schema`, compiled on the first call for `key`. Throws StoreSchemaError if invalid. */
  validator(key: string, schema: object): PayloadValidator {
    const hit = this.#entries.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const issues = preflight(schema);
    if (issues.length > 0) throw new StoreSchemaError(issues);
    let validate: ValidateFunction;
    try {
      validate = compileIsolated(schema);
    } catch (err) {
      throw new StoreSchemaError([
        { pointer: ROOT, message: `cannot be compiled: ${(err as Error).message}` },
      ]);
    }
    const validator: PayloadValidator = (payload) =>
      validate(payload) ? [] : toIssues(validate.errors ?? [], '/payload');
    this.#entries.set(key, validator);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return validator;
  }
}

function compileIsolated(schema: object): ValidateFunction {
  // validateSchema: false because preflight has already checked the schema against the meta-schema in the
  // shared checker; compiling the meta-schema again in every private instance would triple the cost.
  return createAjv({ addUsedSchema: false, validateSchema: false, code: { regExp: linearRegExp } }).compile(
    schema,
  );
}

let checker: Ajv2020 | undefined;

/** The instance used only for meta-schema validation: it compiles the meta-schema once and never grows. */
function metaChecker(): Ajv2020 {
  checker ??= createAjv();
  return checker;
}

function preflight(schema: unknown): SchemaIssue[] {
  if (!isObject(schema)) return [{ pointer: ROOT, message: 'must be a JSON object' }];
  const shape = measure(schema);
  if (shape.tooDeepAt !== undefined) {
    return [
      {
        pointer: ROOT + shape.tooDeepAt,
        message: `nests deeper than ${STORE_SCHEMA_LIMITS.maxDepth} levels`,
      },
    ];
  }
  let bytes: number;
  try {
    bytes = shape.tooLarge ? Number.POSITIVE_INFINITY : Buffer.byteLength(JSON.stringify(schema), 'utf8');
  } catch {
    return [{ pointer: ROOT, message: 'must be plain JSON' }];
  }
  if (bytes > STORE_SCHEMA_LIMITS.maxBytes) {
    return [{ pointer: ROOT, message: `is larger than ${STORE_SCHEMA_LIMITS.maxBytes} bytes` }];
  }
  const issues: SchemaIssue[] = [];
  checkKeywords(schema, ROOT, issues);
  if (issues.length > 0) return issues;
  const ajv = metaChecker();
  try {
    if (ajv.validateSchema(schema) !== true) return toIssues(ajv.errors ?? [], ROOT);
  } catch (err) {
    return [{ pointer: ROOT, message: `is not a valid schema: ${(err as Error).message}` }];
  }
  return [];
}

/**
 * Walks the whole document without recursion (a hostile document must not overflow the stack) and stops at
 * the first container beyond maxDepth. It also gives up after a node budget: JSON text spends at least two
 * bytes per container, so more containers than maxBytes / 2 cannot fit (this also ends cyclic objects).
 */
function measure(root: object): { tooDeepAt?: string; tooLarge?: boolean } {
  const budget = STORE_SCHEMA_LIMITS.maxBytes / 2;
  let visited = 0;
  const stack: Array<{ value: object; level: number; path: string }> = [{ value: root, level: 1, path: '' }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.level > STORE_SCHEMA_LIMITS.maxDepth) return { tooDeepAt: top.path };
    if (++visited > budget) return { tooLarge: true };
    for (const [key, child] of Object.entries(top.value)) {
      if (child !== null && typeof child === 'object') {
        stack.push({
          value: child as object,
          level: top.level + 1,
          path: `${top.path}/${pointerSegment(key)}`,
        });
      }
    }
  }
  return {};
}

// Keywords whose values are subschemas, by how they hold them. Only these are walked, so a "$ref" that is
// merely data (inside const, enum, default, examples) or a property named "pattern" is not mistaken for one.
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SCHEMA_VALUES = [
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];

/**
 * Rules the meta-schema cannot express:
 * - `$ref`/`$dynamicRef` must be local fragments ("#..."): nothing may be fetched or resolved elsewhere.
 * - `$id` is refused: store schemas are anonymous (the hub keys them by store, type and version), and an
 *   embedded `$id` would change the base URI that "#..." references resolve against, e.g. making
 *   "#/$defs/x" point into the meta-schema.
 * - `$schema`, when present, must name draft 2020-12, the only dialect the hub compiles.
 * - `pattern` sources and `patternProperties` keys are capped at maxPattern characters.
 * - `uniqueItems: true` needs `items` of scalar types (checked in one pass) or `maxItems` of at most
 *   maxUniqueItems items (checked pair by pair: 60,000 distinct objects held the event loop for seconds).
 */
function checkKeywords(schema: unknown, path: string, issues: SchemaIssue[]): void {
  if (!isObject(schema)) return;
  for (const keyword of ['$ref', '$dynamicRef']) {
    const ref = schema[keyword];
    if (typeof ref === 'string' && !ref.startsWith('#')) {
      issues.push({ pointer: `${path}/${keyword}`, message: 'must be a local reference starting with "#"' });
    }
  }
  if ('$id' in schema) {
    issues.push({ pointer: `${path}/$id`, message: 'is not allowed: store schemas are anonymous' });
  }
  const dialect = schema.$schema;
  if (dialect !== undefined && (typeof dialect !== 'string' || dialect.replace(/#$/, '') !== DRAFT_2020_12)) {
    issues.push({ pointer: `${path}/$schema`, message: `must be "${DRAFT_2020_12}"` });
  }
  const max = STORE_SCHEMA_LIMITS.maxPattern;
  if (typeof schema.pattern === 'string' && schema.pattern.length > max) {
    issues.push({ pointer: `${path}/pattern`, message: `must not be longer than ${max} characters` });
  }
  if (schema.uniqueItems === true && !uniqueInOnePass(schema)) {
    const most = STORE_SCHEMA_LIMITS.maxUniqueItems;
    issues.push({
      pointer: `${path}/uniqueItems`,
      message: `needs "items" of scalar types or "maxItems" of at most ${most} (it compares every pair of items otherwise)`,
    });
  }
  if (isObject(schema.patternProperties)) {
    for (const source of Object.keys(schema.patternProperties)) {
      if (source.length > max) {
        issues.push({
          pointer: `${path}/patternProperties/${pointerSegment(source)}`,
          message: `pattern must not be longer than ${max} characters`,
        });
      }
    }
  }
  for (const keyword of SCHEMA_MAPS) {
    const map = schema[keyword];
    if (!isObject(map)) continue;
    for (const [name, sub] of Object.entries(map))
      checkKeywords(sub, `${path}/${keyword}/${pointerSegment(name)}`, issues);
  }
  for (const keyword of SCHEMA_VALUES) checkKeywords(schema[keyword], `${path}/${keyword}`, issues);
  for (const keyword of SCHEMA_LISTS) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    for (const [i, sub] of list.entries()) checkKeywords(sub, `${path}/${keyword}/${i}`, issues);
  }
}

/** Ajv checks uniqueItems in one pass when the items' declared types are all scalar. */
function uniqueInOnePass(schema: Record<string, unknown>): boolean {
  const items = schema.items;
  const types = isObject(items) ? items.type : undefined;
  const list = typeof types === 'string' ? [types] : Array.isArray(types) ? types : [];
  if (list.length > 0 && list.every((t) => t !== 'object' && t !== 'array')) return true;
  return typeof schema.maxItems === 'number' && schema.maxItems <= STORE_SCHEMA_LIMITS.maxUniqueItems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
