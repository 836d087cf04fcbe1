import { Kysely, PostgresDialect } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import type pg from 'pg';

export type { Migration } from 'kysely/migration';

/**
 * Brings one package's tables up to date with Kysely's migrator: versions are recorded in
 * `<name>_migrations`, and a lock table makes concurrent starts (several processes of one
 * deployment) safe. The caller's pool stays open.
 */
export async function runMigrations(
  pool: pg.Pool,
  name: string,
  migrations: Record<string, Migration>,
): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: `${name}_migrations`,
    migrationLockTableName: `${name}_migrations_lock`,
  });
  // never db.destroy(): that would end the caller's pool
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
