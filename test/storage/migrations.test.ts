import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { openStorage } from '../../src/storage/open.js';
import type { SqlStorage } from '../../src/storage/sql-storage.js';
import { backends, freshDatabase } from '../helpers/databases.js';

/**
 * Migrations that add an index to `messages` accept one built beforehand (docs/storage.md: on a
 * large PostgreSQL database, build it CONCURRENTLY first so the migration does not block writes).
 */
for (const backend of backends()) {
  describe(`migrations (${backend})`, () => {
    test('0005 finds its index already built and passes', async () => {
      const db = await freshDatabase(backend);
      const storage = (await openStorage({ databaseUrl: db.url, dataDir: db.dataDir })) as SqlStorage;
      try {
        // as if 0005 had not run yet, but its index had been built by hand: the migrations after it
        // are undone too (they run in order), 0006 by dropping the column it adds
        await sql`DELETE FROM switchyard_migrations WHERE name >= '0005_due_by_mapping'`.execute(storage.db);
        await sql`ALTER TABLE stores DROP COLUMN limits`.execute(storage.db);
        await storage.migrate();
        const applied = await sql<{ name: string }>`SELECT name FROM switchyard_migrations
          WHERE name = '0005_due_by_mapping'`.execute(storage.db);
        assert.equal(applied.rows.length, 1, 'recorded as applied');
      } finally {
        await storage.close();
        await db.drop();
      }
    });
  });
}
