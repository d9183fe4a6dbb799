import { readdirSync, readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { createAjv } from './ajv.js';
import type { SchemaIssue } from './issues.js';
import { toIssues } from './issues.js';

export type { PayloadValidator, SchemaIssue } from './issues.js';
export {
  checkStoreSchema,
  STORE_SCHEMA_LIMITS,
  StoreSchemaCache,
  StoreSchemaError,
} from './store-schemas.js';

/** A complete example message of one type. */
export interface SampleMessage {
  message: string;
  payload: Record<string, unknown>;
}

// The JSON files are read at runtime next to this module (the build copies schemas/ and samples/ beside the
// compiled file), which keeps them plain, reviewable JSON and out of the TypeScript program.
const SCHEMA_DIR = new URL('./schemas/', import.meta.url);
const SAMPLE_DIR = new URL('./samples/', import.meta.url);

interface SchemaDocument {
  $id: string;
  $defs: Record<string, unknown>;
}

function readJson(dir: URL, file: string): unknown {
  const url = new URL(file, dir);
  try {
    return JSON.parse(readFileSync(url, 'utf8'));
  } catch (err) {
    throw new Error(`message library: cannot read ${url.pathname}: ${(err as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function loadSchemas(): { documents: SchemaDocument[]; typeRefs: Map<string, string> } {
  const documents: SchemaDocument[] = [];
  const typeRefs = new Map<string, string>();
  for (const file of readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()) {
    const doc = readJson(SCHEMA_DIR, file);
    if (!isObject(doc) || typeof doc.$id !== 'string' || !isObject(doc.$defs)) {
      throw new Error(`message library: ${file} must be a schema with $id and $defs`);
    }
    const family = file.slice(0, -'.schema.json'.length);
    for (const name of Object.keys(doc.$defs)) {
      if (!name.includes(':')) continue; // shared sub-schema, not a message type
      if (name.split(':')[0] !== family)
        throw new Error(`message library: ${name} does not belong in ${file}`);
      if (typeRefs.has(name)) throw new Error(`message library: ${name} is defined twice`);
      // ':' is legal in a URI fragment and needs no escaping in a JSON pointer.
      typeRefs.set(name, `${doc.$id}#/$defs/${name}`);
    }
    documents.push({ $id: doc.$id, $defs: doc.$defs });
  }
  return { documents, typeRefs };
}

function loadSamples(): Map<string, SampleMessage> {
  const samples = new Map<string, SampleMessage>();
  for (const file of readdirSync(SAMPLE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const content = readJson(SAMPLE_DIR, file);
    if (!isObject(content)) throw new Error(`message library: ${file} must map types to sample messages`);
    for (const [type, sample] of Object.entries(content)) {
      if (!isObject(sample) || sample.message !== type || !isObject(sample.payload)) {
        throw new Error(
          `message library: sample ${type} in ${file} must be {"message": "${type}", "payload": {...}}`,
        );
      }
      if (samples.has(type)) throw new Error(`message library: sample ${type} is defined twice`);
      samples.set(type, { message: type, payload: sample.payload });
    }
  }
  return samples;
}

const { documents, typeRefs } = loadSchemas();
const samples = loadSamples();
const sortedTypes = [...typeRefs.keys()].sort();
const sortedSampleTypes = [...samples.keys()].sort();

// One Ajv instance dedicated to the library: every document is added up front so cross-file $refs resolve,
// while each type's validator is compiled on first use (most hubs see a handful of types) and then kept.
const ajv = createAjv();
for (const doc of documents) ajv.addSchema(doc);
const compiled = new Map<string, ValidateFunction>();

function validatorFor(type: string): ValidateFunction | undefined {
  let validate = compiled.get(type);
  if (validate) return validate;
  const ref = typeRefs.get(type);
  if (ref === undefined) return undefined;
  validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`message library: cannot resolve ${ref}`);
  compiled.set(type, validate);
  return validate;
}

export const library: {
  types(): string[];
  has(type: string): boolean;
  validate(type: string, payload: unknown): SchemaIssue[];
  sampleTypes(): string[];
  sample(type: string): SampleMessage | undefined;
} = {
  /** Every type with a library schema, sorted. */
  types: () => [...sortedTypes],

  has: (type) => typeRefs.has(type),

  /**
   * Issues of `payload` against the type's schema, with pointers from the message root ("/payload/...").
   * Types without a library schema (custom types) always pass: only their envelope is checked, elsewhere.
   */
  validate(type, payload) {
    const validate = validatorFor(type);
    if (!validate || validate(payload)) return [];
    return toIssues(validate.errors ?? [], '/payload');
  },

  sampleTypes: () => [...sortedSampleTypes],

  /** A fresh deep copy, so callers may mutate it. */
  sample(type) {
    const sample = samples.get(type);
    return sample ? structuredClone(sample) : undefined;
  },
};
