import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { migrationList } from '../../src/storage/migration-list.js';

/**
 * The migrations are one source for both databases (src/storage/migration-list.ts). Databases in
 * the field record the names they applied and will never run an entry again, so a shipped entry
 * must not change: its name and its text, for each database, are pinned here. A new migration is
 * appended and its fingerprints added below once it ships.
 */
const SHIPPED: readonly [name: string, sqlite: string, postgres: string][] = [
  ['0001_core', 'aec2229cc802827f', 'c49c6aa5133bf0a4'],
  ['0002_mappings', '4ae5596a1d910f57', '19965501ffdcc4eb'],
  ['0003_delivery', '6061a723589d0ca5', '09a6496d9822f4f1'],
  ['0004_integrations_schedulers', '0b1b3a3e8cdc4b76', '90bf962c50e87528'],
  ['0005_due_by_mapping', '2005d26e2442a059', '2005d26e2442a059'],
  ['0006_store_limits', 'a88d092deef1baf6', 'a88d092deef1baf6'],
];

const fingerprint = (statements: readonly string[]) =>
  createHash('sha256').update(statements.join('\n;\n')).digest('hex').slice(0, 16);

const sqlite = migrationList('INTEGER');
const postgres = migrationList('BIGINT');

test('both databases get the same migrations, by name and in order', () => {
  assert.deepEqual(
    sqlite.map(([name]) => name),
    postgres.map(([name]) => name),
  );
  const names = sqlite.map(([name]) => name);
  assert.deepEqual([...names].sort(), names, 'numbered in order');
  assert.equal(new Set(names).size, names.length, 'no name twice');
});

test('the two lists differ only in the type of time columns', () => {
  for (const [i, [name, statements]] of sqlite.entries()) {
    const other = postgres[i]![1].map((s) => s.replaceAll('BIGINT', 'INTEGER'));
    assert.deepEqual(other, statements, name);
  }
});

test('shipped migrations are unchanged', () => {
  for (const [i, [name, sqliteHash, postgresHash]] of SHIPPED.entries()) {
    assert.equal(sqlite[i]?.[0], name, `entry ${i} is still ${name}`);
    assert.equal(fingerprint(sqlite[i]![1]), sqliteHash, `${name} (SQLite) was edited after it shipped`);
    assert.equal(
      fingerprint(postgres[i]![1]),
      postgresHash,
      `${name} (PostgreSQL) was edited after it shipped`,
    );
  }
});
