import type { FieldErrorList } from '../errors.js';
import { pointerToken } from '../json-pointer.js';

/**
 * What the configuration resources' parsers (mappings, parameters, schedulers, integrations) share:
 * the body's object, sent bare or wrapped as `{"<noun>": {…}}` as the original hub's clients did,
 * and the 422 reasons for a body that is not an object or names fields the resource does not have.
 */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The resource object of a request body, or undefined when it is not an object (reported at `/`).
 * Members outside `known` are reported as unknown fields; the object is returned all the same,
 * so the caller can report every other problem in the same answer.
 */
export function resourceObject(
  body: unknown,
  noun: string,
  known: readonly string[],
  errors: FieldErrorList,
): Json | undefined {
  const input = isObject(body) && isObject(body[noun]) && Object.keys(body).length === 1 ? body[noun] : body;
  if (!isObject(input)) {
    const article = /^[aeiou]/.test(noun) ? 'an' : 'a';
    errors.add('/', `must be a JSON object (${article} ${noun}, or {"${noun}": {…}})`);
    return undefined;
  }
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) errors.add(`/${pointerToken(key)}`, 'is not a known field');
  }
  return input;
}
