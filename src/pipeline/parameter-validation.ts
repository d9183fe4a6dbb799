import { FieldErrorList, type FieldErrors } from '../errors.js';
import { looksLikeId } from '../ids.js';
import type { DataType, Parameter } from '../storage/delivery-contract.js';
import { isObject, resourceObject } from './resource-body.js';

/**
 * Validation of a store parameter as a client writes it; docs/parameters.md#fields is the
 * user-facing account. Pointers are relative to the parameter object, bare or wrapped in
 * `{"parameter": …}`.
 *
 * Decisions:
 * - the value must already have its type's JSON shape: `"5"` is not an integer, `"true"` is not a
 *   boolean. Endpoints read `payload.parameters` as JSON, and coercing here would hand them a
 *   type the client never wrote;
 * - integers must be safe integers (|n| ≤ 2^53 − 1): larger ones do not survive a JS endpoint;
 * - a name may not have the shape of an id (a UUID): the item routes and storage look a parameter
 *   up by id OR name, so such a name would make `GET`/`DELETE …/parameters/<uuid>` ambiguous;
 * - an update merges onto the stored parameter and keeps its data_type unless one is sent, so
 *   `PUT {"value": …}` never changes the type endpoints rely on; the name cannot change (rename
 *   = create + delete), so a GET answer can still be PUT back as it is;
 * - null means "not sent" (a UI's explicit null), so a null value is "is required".
 */

export const DATA_TYPES: readonly DataType[] = ['string', 'integer', 'float', 'boolean', 'list'];

export const PARAMETER_LIMITS = { nameLength: 200 } as const;

const NAME = /^[A-Za-z0-9_.\-:]+$/;
const FIELDS = ['name', 'value', 'data_type'];
const READ_ONLY = ['id', 'store_id', 'created_at', 'updated_at'];

export interface ParameterFields {
  name: string;
  value: unknown;
  data_type: DataType;
}

export type ParameterParse = { ok: true; fields: ParameterFields } | { ok: false; errors: FieldErrors };

/**
 * The data type a value implies when none is given: used for a create without `data_type` and for
 * parameters an endpoint reply upserts (the delivery outcome should import this one).
 */
export function dataTypeOf(value: unknown): DataType {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  return 'string';
}

export function isDataType(value: unknown): value is DataType {
  return DATA_TYPES.includes(value as DataType);
}

/** Why `value` does not fit `type`, as `[pointer suffix, reason]` pairs (empty when it fits). */
export function valueProblems(value: unknown, type: DataType): [string, string][] {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? [] : [['', 'must be a string']];
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [['', 'must be an integer']];
      return Number.isSafeInteger(value) ? [] : [['', 'must be between -(2^53 - 1) and 2^53 - 1']];
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? [] : [['', 'must be a number']];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [['', 'must be true or false']];
    case 'list':
      if (!Array.isArray(value)) return [['', 'must be an array of objects']];
      return value.flatMap((item, i): [string, string][] =>
        isObject(item) ? [] : [[`/${i}`, 'must be an object']],
      );
  }
}

/**
 * Validates a new parameter (POST), or an update merged onto `base` (PUT): `value` and
 * `data_type` replace the stored ones when sent, and the result is validated as a whole.
 */
export function parseParameter(body: unknown, base?: Parameter): ParameterParse {
  const errors = new FieldErrorList();
  const input = resourceObject(body, 'parameter', [...FIELDS, ...READ_ONLY], errors);
  if (!input) return { ok: false, errors: errors.errors };

  const sent = (key: string) => input[key] !== undefined && input[key] !== null;
  let name: string | undefined;
  if (base) {
    name = base.name;
    if (sent('name') && input.name !== base.name) {
      errors.add('/name', 'cannot be changed: create a parameter with the new name and delete this one');
    }
  } else {
    name = checkName(input.name, errors);
  }

  const value = sent('value') ? input.value : base ? JSON.parse(base.value) : undefined;
  let type: DataType | undefined;
  if (sent('data_type')) {
    if (isDataType(input.data_type)) type = input.data_type;
    else errors.add('/data_type', `must be one of ${DATA_TYPES.join(', ')}`);
  } else {
    type = base ? base.data_type : value === undefined ? undefined : inferred(value, errors);
  }

  if (value === undefined) errors.add('/value', 'is required');
  else if (type) {
    for (const [suffix, reason] of valueProblems(value, type)) {
      // Only data_type was sent: the stored value is not the client's mistake, the new type is.
      if (!sent('value'))
        errors.add('/data_type', `does not fit the stored value (${reason}): send a value too`);
      else errors.add(`/value${suffix}`, reason);
    }
  }

  if (!errors.empty) return { ok: false, errors: errors.errors };
  return { ok: true, fields: { name: name!, value, data_type: type! } };
}

/** Why `name` is not a valid parameter name, or undefined (reusable for names in endpoint replies). */
export function nameProblem(value: unknown): string | undefined {
  if (value === undefined || value === null) return 'is required';
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be blank';
  if (value.length > PARAMETER_LIMITS.nameLength) {
    return `must be at most ${PARAMETER_LIMITS.nameLength} characters`;
  }
  if (!NAME.test(value)) return 'may contain only letters, digits and the characters _ . - :';
  if (looksLikeId(value.toLowerCase())) return 'must not have the shape of a parameter id (a UUID)';
  return undefined;
}

function checkName(value: unknown, errors: FieldErrorList): string | undefined {
  const problem = nameProblem(value);
  if (problem) errors.add('/name', problem);
  return problem ? undefined : (value as string);
}

/** The inferred type, or an error for an object: it fits no data type, and "string" would mislead. */
function inferred(value: unknown, errors: FieldErrorList): DataType | undefined {
  if (isObject(value)) {
    errors.add('/value', 'must be a string, a number, true/false or an array of objects');
    return undefined;
  }
  return dataTypeOf(value);
}
