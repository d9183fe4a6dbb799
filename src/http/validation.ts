import { Ajv, type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldErrors } from '../errors.js';

/**
 * Route schemas are checked by two Ajv instances. Query strings and path params need coercion
 * ("2" → 2); bodies must not be coerced or trimmed, or a client sending `"quantity": "10"` would
 * silently get 10. A schema flagged `x-manual-validation` is documentation only: its handler
 * validates by hand to give better messages (the push route).
 */
const coercing = new Ajv({
  coerceTypes: 'array',
  useDefaults: true,
  removeAdditional: false,
  allErrors: true,
  strict: false,
});
const strictBody = new Ajv({
  coerceTypes: false,
  useDefaults: true,
  removeAdditional: false,
  allErrors: true,
  strict: false,
});

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if ((schema as Record<string, unknown>)['x-manual-validation']) return () => true;
  const ajv = httpPart === 'body' ? strictBody : coercing;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

/** Turns Ajv errors into `{pointer: [reasons]}`; a missing property is reported at its own pointer. */
export function ajvToFieldErrors(errors: readonly ErrorObject[], prefix = ''): FieldErrors {
  const out: FieldErrors = {};
  for (const e of errors) {
    let pointer = prefix + e.instancePath;
    let reason = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      pointer += `/${(e.params as { missingProperty: string }).missingProperty}`;
      reason = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
      reason = 'is not allowed';
    } else if (e.keyword === 'enum') {
      reason = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    }
    const list = (out[pointer || '/'] ??= []);
    if (!list.includes(reason)) list.push(reason);
  }
  return out;
}
