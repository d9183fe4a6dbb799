import type { Options } from 'ajv/dist/2020.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS. Under NodeNext a default import is its `module.exports`, which TypeScript types as the
// module namespace, so the plugin is reached through `.default` (ajv-formats sets that property at runtime too).
const addFormats = addFormatsModule.default;

/**
 * Options for every Ajv instance that validates message payloads. Never share an instance with fastify: its
 * defaults coerce types, inject defaults and strip properties, which would silently rewrite stored payloads.
 * `verbose` makes errors carry their schema and parent schema; issues.ts needs both to pick the branch of an
 * anyOf/oneOf that explains a failure and to read `x-message`. It costs nothing on valid payloads.
 */
export const PAYLOAD_AJV_OPTIONS: Options = {
  strict: false,
  allErrors: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  verbose: true,
};

export type { Ajv2020 };

export function createAjv(extra: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ ...PAYLOAD_AJV_OPTIONS, ...extra });
  addFormats(ajv);
  return ajv;
}
