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
    const re = RE2JS.compile(toRe2Syntax(pattern));
    // Ajv caches compiled patterns under their toString(): it must differ from pattern to pattern
    return { test: (s: string) => re.test(s), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'linearRegExp /* re2js, src/library/linear-regexp.ts */' },
);

/**
 * JSON Schema patterns are written in JavaScript's syntax. RE2 reads nearly all of it the same;
 * the exceptions a schema may well use are rewritten: `\uXXXX` and `\u{…}` become `\x{…}`, and
 * `[^]` (any character) becomes `[\s\S]`. What RE2 leaves out on purpose (lookaround,
 * backreferences) stays refused.
 */
export function toRe2Syntax(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const hex4 = /^u([0-9a-fA-F]{4})/.exec(pattern.slice(i + 1, i + 6));
      const braced = /^u\{([0-9a-fA-F]{1,6})\}/.exec(pattern.slice(i + 1, i + 10));
      if (hex4) {
        out += `\\x{${hex4[1]}}`;
        i += 5;
      } else if (braced) {
        out += `\\x{${braced[1]}}`;
        i += braced[0].length;
      } else {
        out += c + (pattern[i + 1] ?? '');
        i++;
      }
    } else if (c === '[' && pattern.startsWith('[^]', i)) {
      out += '[\\s\\S]';
      i += 2;
    } else out += c;
  }
  return out;
}
