/**
 * Dotted paths from the MESSAGE root (`payload.order.status`, `payload.order.shipments.*.items.*.sku`),
 * used by mapping filters, identifiers and ordering keys.
 *
 * Grammar: segments separated by `.`; a segment is `*` (the wildcard) or a key of 1–128 characters
 * that contains no `.`, no whitespace and no control character. At most 32 segments and 512
 * characters; no empty segment, no leading or trailing dot. Lengths count Unicode code points, so a
 * key written in another script is not penalised for needing surrogate pairs. A `*` inside a longer
 * segment (`a*b`) is an ordinary key character: only a whole segment is a wildcard.
 *
 * Walking (`valuesAt`):
 * - a key on an object takes that OWN property; the prototype is never consulted, so `__proto__`,
 *   `constructor` or `toString` are ordinary keys that exist only when the message has them;
 * - a key on an array indexes it when it is a canonical index (`0`, `1`, `12`; not `01`, `-1`,
 *   `length`), anything else yields nothing;
 * - `*` takes every element of an array, or every own enumerable value of an object in key order
 *   (JavaScript's order: integer-like keys ascending first, then insertion order);
 * - a key or `*` on a scalar or on null yields nothing; a missing property yields nothing;
 * - a path ending on a property whose value is null yields `[null]`: "present but null" and "absent"
 *   are different facts, and filters (`present`/`empty`) and identifiers rely on the difference;
 * - `undefined` cannot come out of JSON, so a property holding it is treated as missing.
 */

export const WILDCARD: unique symbol = Symbol('switchyard.path.wildcard');
export type PathSegment = string | typeof WILDCARD;
export type Path = readonly PathSegment[];

export class PathError extends Error {
  override name = 'PathError';
}

export const MAX_PATH_LENGTH = 512;
export const MAX_PATH_SEGMENTS = 32;
export const MAX_KEY_LENGTH = 128;

// \s covers Unicode white space (NBSP, U+2028 …); \p{Cc} the C0/C1 control characters. Format
// characters (\p{Cf}, e.g. the zero-width joiner inside emoji sequences) stay allowed on purpose.
const FORBIDDEN = /[\s\p{Cc}]/u;
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function parsePath(text: string): Path {
  if (typeof text !== 'string') throw new PathError('path must be a string');
  if (text === '') throw new PathError('path is empty');
  const length = codePoints(text);
  if (length > MAX_PATH_LENGTH) {
    throw new PathError(`path is ${length} characters long, the maximum is ${MAX_PATH_LENGTH}`);
  }
  if (text.startsWith('.')) throw new PathError('path starts with a dot');
  if (text.endsWith('.')) throw new PathError('path ends with a dot');
  const parts = text.split('.');
  if (parts.length > MAX_PATH_SEGMENTS) {
    throw new PathError(`path has ${parts.length} segments, the maximum is ${MAX_PATH_SEGMENTS}`);
  }
  const path: PathSegment[] = [];
  parts.forEach((part, i) => {
    const position = i + 1;
    if (part === '') throw new PathError(`empty segment at position ${position}`);
    if (part === '*') {
      path.push(WILDCARD);
      return;
    }
    if (FORBIDDEN.test(part)) {
      throw new PathError(`segment at position ${position} contains whitespace or a control character`);
    }
    const keyLength = codePoints(part);
    if (keyLength > MAX_KEY_LENGTH) {
      throw new PathError(
        `segment at position ${position} is ${keyLength} characters long, the maximum is ${MAX_KEY_LENGTH}`,
      );
    }
    path.push(part);
  });
  return Object.freeze(path);
}

/** The path back in its textual form (for messages and explanations). */
export function formatPath(path: Path): string {
  return path.map((segment) => (segment === WILDCARD ? '*' : segment)).join('.');
}

function step(node: unknown, segment: PathSegment, out: unknown[]): void {
  if (node === null || typeof node !== 'object') return;
  if (segment === WILDCARD) {
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (child !== undefined) out.push(child);
    return;
  }
  if (Array.isArray(node)) {
    if (!ARRAY_INDEX.test(segment)) return;
    const index = Number(segment);
    // Beyond 2^53 Number() rounds; such an index can never be inside a real array anyway.
    if (index < node.length && node[index] !== undefined) out.push(node[index]);
    return;
  }
  // Object.hasOwn + a read of that own property: an own `__proto__` data property (JSON.parse creates
  // one) shadows the inherited accessor, and a missing one is never looked up on the prototype.
  if (!Object.hasOwn(node, segment)) return;
  const value = (node as Record<string, unknown>)[segment];
  if (value !== undefined) out.push(value);
}

export function valuesAt(root: unknown, path: Path): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path) {
    const next: unknown[] = [];
    for (const node of current) step(node, segment, next);
    if (next.length === 0) return next;
    current = next;
  }
  return current;
}
