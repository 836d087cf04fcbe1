import { readFile } from 'node:fs/promises';
import { type Migration, type MigrationSet, runMigrations } from '@telly/runtime';
import { sql } from 'kysely';
import type pg from 'pg';

/** A migration whose SQL is a file of migrations/, frozen once applied anywhere. */
function frozen(file: string): Migration {
  return {
    async up(db) {
      await sql.raw(await readFile(new URL(`./migrations/${file}`, import.meta.url), 'utf8')).execute(db);
    },
  };
}

/**
 * The telemetry read model's versions. Each is frozen SQL text: a change of shape is a new
 * migration, together with the same change to the live DDL in tables.ts (which a replay builds
 * its fresh tables with).
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_telemetry': frozen('0001_telemetry.sql'),
};

/** This package's tables, for `telly migrate` and the component definition. */
export const telemetryMigrations: MigrationSet = { name: 'telemetry', migrations: MIGRATIONS };

export function migrateTelemetry(pool: pg.Pool): Promise<void> {
  return runMigrations(pool, telemetryMigrations);
}
