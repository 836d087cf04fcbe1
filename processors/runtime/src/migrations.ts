import { readdirSync, readFileSync } from 'node:fs';
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
 * One package's migrations as the frozen `.sql` files of a folder: `0001_<name>.sql` is the
 * migration keyed `0001_<name>`, applied in key order, its text executed as is. The files are
 * read once, here; a change of shape is a new file, never an edit of an applied one.
 */
export function sqlMigrations(name: string, dir: URL): SqlMigrationSet {
  const texts: Record<string, string> = {};
  const migrations: Record<string, Migration> = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const key = file.slice(0, -'.sql'.length);
    const text = readFileSync(new URL(file, dir), 'utf8');
    texts[key] = text;
    migrations[key] = {
      async up(db) {
        await sql.raw(text).execute(db);
      },
    };
  }
  return { name, migrations, texts };
}

/** A set read by `sqlMigrations`, with each migration's SQL text by key. */
export interface SqlMigrationSet extends MigrationSet {
  texts: Readonly<Record<string, string>>;
}

/**
 * The runtime's own tables: what each Postgres processor applied (`PgCheckpoint`). `IF NOT
 * EXISTS` because deployments from before this set existed already have them.
 */
export const runtimeMigrations: MigrationSet = sqlMigrations(
  'runtime',
  new URL('./migrations/', import.meta.url),
);
