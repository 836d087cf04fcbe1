import { type Migration, type MigrationSet, runMigrations } from '@telly/runtime';
import { sql } from 'kysely';
import type pg from 'pg';

/** The commands read model: one row per command with its latest status. Rebuilt from the log. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_commands': {
    async up(db) {
      await sql`
        CREATE TABLE commands (
          id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL,
          thing_id uuid NOT NULL,
          name text,
          payload jsonb,
          status text NOT NULL,
          requested_at timestamptz,
          requested_by text,
          expires_at timestamptz,
          delivered_at timestamptz,
          completed_at timestamptz,
          result jsonb,
          reason text
        );
        CREATE INDEX commands_thing ON commands (tenant_id, thing_id, id);
        CREATE INDEX commands_pending ON commands (expires_at) WHERE status = 'pending';
      `.execute(db);
    },
  },
};

/** This package's tables, for `telly migrate` and the component definition. */
export const commandsMigrations: MigrationSet = { name: 'commands', migrations: MIGRATIONS };

export function migrateCommands(pool: pg.Pool): Promise<void> {
  return runMigrations(pool, commandsMigrations);
}
