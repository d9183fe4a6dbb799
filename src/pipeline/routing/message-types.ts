/**
 * Message types and the type patterns of a mapping's `messages` list.
 *
 * A type is two or more `:`-separated segments of `[a-z0-9_]+` (`order:new`, `spree:order:poll`).
 * A pattern is the same, except that any segment may be `*`, which matches exactly one whole
 * segment: `order:*` matches `order:new` but not `order:payment:captured` (nor `order`), `*:new`
 * matches `order:new`. The lone pattern `*` is the catch-all and matches every type. A `*` inside a
 * segment (`ord*`) is invalid rather than a prefix match, so that a pattern's meaning is obvious.
 *
 * TypeIndex answers "which mappings take this type" on every intake, so its cost must not grow
 * with the mappings that cannot match:
 * - exact patterns go into a Map from type → entries (one hash lookup, whatever their number);
 * - wildcard patterns, usually few, are kept apart and grouped by segment count, since a pattern
 *   only ever matches types with as many segments; only that group is scanned;
 * - catch-alls are kept as a plain list;
 * - results are memoised per type. Types come from outside (pushes, endpoint replies), so the
 *   memo is bounded: past 10,000 distinct types it is simply cleared — cheaper and simpler than an
 *   LRU, and a hub that sees that many distinct types is already unusual.
 * The index is immutable; when mappings change, a new one is built, so the memo never goes stale.
 */

const SEGMENT = /^[a-z0-9_]+$/;
const TYPE = /^[a-z0-9_]+(?::[a-z0-9_]+)+$/;

export const CATCH_ALL = '*';
export const MAX_PATTERN_LENGTH = 255;
const MEMO_LIMIT = 10_000;

export function isMessageType(type: unknown): type is string {
  return typeof type === 'string' && TYPE.test(type);
}

export function checkTypePattern(pattern: unknown): string | null {
  if (typeof pattern !== 'string') return 'must be a string';
  if (pattern === '') return 'must not be empty';
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return `is ${pattern.length} characters long, the maximum is ${MAX_PATTERN_LENGTH}`;
  }
  if (pattern === CATCH_ALL) return null;
  const segments = pattern.split(':');
  if (segments.length < 2) {
    return 'must have two or more ":"-separated segments (e.g. "order:new" or "order:*"), or be "*"';
  }
  for (const [i, segment] of segments.entries()) {
    if (segment === '*' || SEGMENT.test(segment)) continue;
    const position = i + 1;
    if (segment === '') return `segment ${position} is empty`;
    if (segment.includes('*')) return `segment ${position} ("${segment}"): "*" must be a whole segment`;
    return `segment ${position} ("${segment}") must be lower-case letters, digits and "_", or "*"`;
  }
  return null;
}

function segmentsMatch(pattern: readonly string[], type: readonly string[]): boolean {
  if (pattern.length !== type.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    const t = type[i];
    if (p === '*' ? t === '' : p !== t) return false;
  }
  return true;
}

export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === CATCH_ALL) return true;
  if (!pattern.includes('*')) return pattern === type;
  return segmentsMatch(pattern.split(':'), type.split(':'));
}

export class TypeIndex<T> {
  readonly #values: readonly T[];
  readonly #exact = new Map<string, number[]>();
  readonly #wildcards = new Map<number, { segments: readonly string[]; entry: number }[]>();
  readonly #catchAll: number[] = [];
  readonly #memo = new Map<string, readonly T[]>();

  constructor(entries: readonly { patterns: readonly string[]; value: T }[]) {
    this.#values = entries.map((e) => e.value);
    entries.forEach(({ patterns }, entry) => {
      for (const pattern of patterns) {
        const problem = checkTypePattern(pattern);
        // Patterns are validated when mappings are saved; a bad one here is a bug, not user input.
        if (problem !== null)
          throw new Error(`invalid message type pattern ${JSON.stringify(pattern)}: ${problem}`);
        if (pattern === CATCH_ALL) {
          this.#catchAll.push(entry);
        } else if (pattern.includes('*')) {
          const segments = pattern.split(':');
          const group = this.#wildcards.get(segments.length);
          if (group) group.push({ segments, entry });
          else this.#wildcards.set(segments.length, [{ segments, entry }]);
        } else {
          const list = this.#exact.get(pattern);
          if (list) list.push(entry);
          else this.#exact.set(pattern, [entry]);
        }
      }
    });
  }

  /** Every entry with a pattern that matches `type`, in constructor order, each once. */
  lookup(type: string): readonly T[] {
    const cached = this.#memo.get(type);
    if (cached) return cached;
    const hits = new Set<number>(this.#catchAll);
    for (const entry of this.#exact.get(type) ?? []) hits.add(entry);
    const segments = type.split(':');
    for (const { segments: pattern, entry } of this.#wildcards.get(segments.length) ?? []) {
      if (!hits.has(entry) && segmentsMatch(pattern, segments)) hits.add(entry);
    }
    const result = Object.freeze([...hits].sort((a, b) => a - b).map((entry) => this.#values[entry] as T));
    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
    this.#memo.set(type, result);
    return result;
  }
}
