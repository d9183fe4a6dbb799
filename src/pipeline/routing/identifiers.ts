/**
 * Mapping identifiers (docs/routing.md#identifiers): `{name: path}`. The values at the paths form a
 * key; a mapping takes a given key once (deduplication itself, with its TTL and release rules, lives with the
 * intake stage; this file only computes keys).
 *
 * The key:
 * - names are sorted (code-unit order, never locale-dependent), so the order of the identifiers
 *   object does not matter;
 * - each path's values are stringified with the filters' rule (stringifyValue), so 1123 and "1123"
 *   identify the same message, and object values do not depend on key order;
 * - if ANY path yields nothing, or only nulls, the message cannot be identified: key() is null and
 *   the message is not deduplicated (better deliver twice than drop a message on a missing field);
 *   a null among real values (a wildcard over items, one of which has no sku) is kept, as "";
 * - the key is the hex SHA-256 of the JSON `[[name, [values…]], …]`: fixed length for storage and
 *   indexes, and no payload data is kept in the dedup table. The names are part of the hash, so two
 *   configurations that read the same value under different names give different keys.
 * - an empty identifiers object identifies nothing: key() is always null.
 */
import { createHash } from 'node:crypto';
import { type FieldIssue, stringifyValue } from './filters.js';
import { type Path, parsePath, valuesAt } from './paths.js';

export interface CompiledIdentifiers {
  readonly names: readonly string[];
  key(message: unknown): string | null;
}

export const MAX_IDENTIFIERS = 16;
export const MAX_IDENTIFIER_NAME_LENGTH = 64;

export class IdentifiersError extends Error {
  override name = 'IdentifiersError';
  constructor(readonly issues: readonly FieldIssue[]) {
    const parts = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message));
    super(`invalid identifiers: ${parts.join('; ')}`);
  }
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function checkIdentifiers(input: unknown): FieldIssue[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return [{ field: '', message: 'identifiers must be an object of name → path' }];
  }
  const entries = Object.entries(input);
  const issues: FieldIssue[] = [];
  if (entries.length > MAX_IDENTIFIERS) {
    issues.push({
      field: '',
      message: `at most ${MAX_IDENTIFIERS} identifiers are allowed (got ${entries.length})`,
    });
  }
  for (const [name, path] of entries) {
    const length = codePoints(name);
    if (length < 1 || length > MAX_IDENTIFIER_NAME_LENGTH) {
      issues.push({ field: name, message: `name must be 1–${MAX_IDENTIFIER_NAME_LENGTH} characters long` });
    }
    if (typeof path !== 'string') {
      issues.push({ field: name, message: 'path must be a string' });
      continue;
    }
    try {
      parsePath(path);
    } catch (error) {
      issues.push({ field: name, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return issues;
}

export function compileIdentifiers(input: Record<string, string>): CompiledIdentifiers {
  const issues = checkIdentifiers(input);
  if (issues.length > 0) throw new IdentifiersError(issues);
  const names = Object.keys(input).sort();
  const paths: { name: string; path: Path }[] = names.map((name) => ({
    name,
    path: parsePath(input[name] as string),
  }));
  return Object.freeze({
    names: Object.freeze(names),
    key(message: unknown): string | null {
      if (paths.length === 0) return null;
      const parts: [string, string[]][] = [];
      for (const { name, path } of paths) {
        const values = valuesAt(message, path);
        if (!values.some((v) => v !== null)) return null;
        parts.push([name, values.map(stringifyValue)]);
      }
      return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
    },
  });
}
