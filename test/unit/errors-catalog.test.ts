import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS } from '../../src/errors.js';

/** The rows of docs/errors.md's table as [code, status, message] cells. */
function documentedRows(): string[][] {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  return doc
    .split('\n')
    .filter((line) => /^\|\s*`[A-Z_]+`/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/`/g, '')),
    );
}

test('docs/errors.md lists every code of the catalog with its status and message', () => {
  const rows = documentedRows();
  for (const [code, { status, message }] of Object.entries(ERRORS)) {
    const row = rows.find((r) => r[0] === code);
    assert.ok(row, `docs/errors.md has no row for ${code}`);
    assert.equal(row[1], String(status), `${code}: status`);
    assert.ok(row[2]?.startsWith(message), `${code}: message "${message}" not in "${row[2]}"`);
  }
  assert.deepEqual(
    rows.map((r) => r[0]).sort(),
    Object.keys(ERRORS).sort(),
    'docs list codes the catalog does not have',
  );
});

test('every status in the catalog is an error status and no 5xx answers bad input', () => {
  for (const [code, { status }] of Object.entries(ERRORS)) {
    assert.ok(status >= 400 && status < 600, code);
    if (status >= 500) assert.ok(['INTERNAL', 'UNAVAILABLE'].includes(code), code);
  }
});
