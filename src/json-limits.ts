import { pointerToken } from './pipeline/resource-body.js';

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
 * and why — or undefined. Two things: nesting deeper than MAX_JSON_DEPTH, and a number too large
 * for a double (`1e400` parses to Infinity, which JSON cannot carry: it was stored as `null`).
 * One walk over the parsed value, cheap next to the parse (a push's few dozen nodes).
 */
export function jsonProblem(value: unknown): { pointer: string; reason: string } | undefined {
  const found = walk(value, 0);
  if (!found) return undefined;
  return { pointer: `/${found.path.reverse().map(pointerToken).join('/')}`, reason: found.reason };
}

interface Found {
  /** Keys from the offending value up to the root (reversed once, on the way out). */
  path: string[];
  reason: string;
}

function walk(value: unknown, depth: number): Found | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value)
      ? undefined
      : { path: [], reason: 'is a number too large to represent (at most about 1.8e308)' };
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH)
    return { path: [], reason: `nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], depth + 1);
      if (found) {
        found.path.push(String(i));
        return found;
      }
    }
    return undefined;
  }
  for (const key in value) {
    const found = walk((value as Record<string, unknown>)[key], depth + 1);
    if (found) {
      found.path.push(key);
      return found;
    }
  }
  return undefined;
}
