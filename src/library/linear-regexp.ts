import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { RE2JS } from 're2js';

/**
 * The regular-expression engine for the patterns of schemas that stores register (`pattern`,
 * `patternProperties`). A store's schema is untrusted input and its patterns run on every payload
 * of the type: with JavaScript's backtracking engine one pattern such as `^(a+)+$` and a payload
 * of thirty characters held the event loop for seconds, a thousand for ever — the whole hub,
 * every store. re2js (a port of RE2, already the engine of mapping filters) runs in time linear
 * in the input. The price: lookaround and backreferences, which RE2 leaves out to keep that
 * promise, are refused when the schema is registered ("cannot be compiled"). The hub's own
 * message library keeps the native engine (its patterns are ours).
 *
 * JSON Schema's `pattern` searches (it is not anchored), as `test` does here; patterns are
 * unicode-aware either way, so Ajv's `u` flag needs no translation.
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = RE2JS.compile(pattern);
    // Ajv caches compiled patterns under their toString(): it must differ from pattern to pattern
    return { test: (s: string) => re.test(s), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'linearRegExp /* re2js, src/library/linear-regexp.ts */' },
);
