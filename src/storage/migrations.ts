import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

/**
 * Migrations are numbered and append-only, written once for both databases (migration-list.ts).
 * Never edit or reorder an entry that has shipped: add a new one. Each entry is plain SQL.
 */
export type SqlMigrations = readonly (readonly [name: string, statements: readonly string[]])[];

class ListProvider implements MigrationProvider {
  constructor(private readonly list: SqlMigrations) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, statements] of this.list) {
      out[name] = {
        async up(db: Kysely<unknown>) {
          for (const statement of statements) await sql.raw(statement).execute(db);
        },
      };
    }
    return out;
  }
}

/** Applies pending migrations. Kysely's Migrator locks (an advisory lock on PostgreSQL). */
export async function runMigrations(db: Kysely<unknown>, list: SqlMigrations): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new ListProvider(list),
    migrationTableName: 'switchyard_migrations',
    migrationLockTableName: 'switchyard_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // no migration failed: the migrator could not start (the database cannot be reached, say)
    if (!failed) throw error;
    throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? String(error)}`, {
      cause: error,
    });
  }
}
