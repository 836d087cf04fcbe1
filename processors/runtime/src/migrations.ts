import { Kysely, PostgresDialect, sql } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import type pg from 'pg';

export type { Migration } from 'kysely/migration';

/**
 * One package's tables, versioned: the package that owns the tables owns this set, and nobody
 * else runs it. An applied migration is frozen text: a change is a new migration, never an edit.
 */
export interface MigrationSet {
  /** Versions are recorded in `<name>_migrations`. */
  name: string;
  migrations: Record<string, Migration>;
}

/**
 * Brings each set's tables up to date with Kysely's migrator, in the given order: versions are
 * recorded in `<name>_migrations`, and a lock table makes concurrent starts (several processes
 * of one deployment) safe. The caller's pool stays open.
 */
export async function runMigrations(pool: pg.Pool, ...sets: MigrationSet[]): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  // never db.destroy(): that would end the caller's pool
  for (const set of sets) {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => set.migrations },
      migrationTableName: `${set.name}_migrations`,
      migrationLockTableName: `${set.name}_migrations_lock`,
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }
}

/**
 * The runtime's own tables: what each Postgres processor applied (`PgCheckpoint`). `IF NOT
 * EXISTS` because deployments from before this set existed already have them.
 */
export const runtimeMigrations: MigrationSet = {
  name: 'runtime',
  migrations: {
    '0001_checkpoints': {
      async up(db) {
        await sql`
          CREATE TABLE IF NOT EXISTS telly_applied (
            processor text NOT NULL,
            seq bigint NOT NULL,
            PRIMARY KEY (processor, seq)
          );
          CREATE TABLE IF NOT EXISTS telly_checkpoints (
            processor text PRIMARY KEY,
            last_seq bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
          );
        `.execute(db);
      },
    },
  },
};
