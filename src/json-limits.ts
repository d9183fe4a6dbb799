import { pointerToken } from './json-pointer.js';

/**
 * How deeply a JSON document from outside (a request body, an endpoint's reply, an integration's
 * endpoint.json) may nest objects and arrays. Commerce documents nest a dozen levels at
 * most; without a bound, a body of a few thousand nested arrays (well under the 1 MB body limit)
 * parsed fine and then overflowed the stack wherever it was written back out (JSON.stringify on
 * the push path, in settlements, in parameters): a 500 for a malformed request.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * What makes a parsed document unacceptable although it is valid JSON — where (a JSON pointer)
 * and why — or undefined. Nesting deeper than MAX_JSON_DEPTH; a number too large for a double
 * (`1e400` parses to Infinity, which JSON cannot carry: it was stored as `null`); and, with
 * `exactNumbers` (request bodies, where a person can fix what they send; an endpoint's reply keeps
 * the bounds it had), a number beyond 2^53, where a double no longer holds every integer (12345678901234567891 was
 * kept as 12345678901234567000 without a word; once parsed, 1e20 written so cannot be told from a
 * rounded id, so every number that large is refused). Refused rather than kept as written: the hub reads values
 * (filters, identifiers, schemas) and writes the payload back out, and a payload delivered with an
 * id other than the one pushed is worse than a 422 that says to send it as a string (docs/errors.md).
 * One walk over the parsed value, cheap next to the parse (a push's few dozen nodes).
 */
export function jsonProblem(
  value: unknown,
  options: { exactNumbers?: boolean } = {},
): { pointer: string; reason: string } | undefined {
  const found = walk(value, 0, options.exactNumbers === true);
  if (!found) return undefined;
  return { pointer: `/${found.path.reverse().map(pointerToken).join('/')}`, reason: found.reason };
}

const INEXACT_INTEGER =
  'is a number beyond 9007199254740991 (2^53 - 1), past which numbers are not kept exactly: send it as a string';

interface Found {
  /** Keys from the offending value up to the root (reversed once, on the way out). */
  path: string[];
  reason: string;
}

function walk(value: unknown, depth: number, exact: boolean): Found | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return { path: [], reason: 'is a number too large to represent (at most about 1.8e308)' };
    if (exact && Number.isInteger(value) && !Number.isSafeInteger(value))
      return { path: [], reason: INEXACT_INTEGER };
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH)
    return { path: [], reason: `nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], depth + 1, exact);
      if (found) {
        found.path.push(String(i));
        return found;
      }
    }
    return undefined;
  }
  for (const key in value) {
    const found = walk((value as Record<string, unknown>)[key], depth + 1, exact);
    if (found) {
      found.path.push(key);
      return found;
    }
  }
  return undefined;
}
