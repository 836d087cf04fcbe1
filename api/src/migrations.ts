import { type Migration, type MigrationSet, runMigrations } from '@telly/runtime';
import { sql } from 'kysely';
import type pg from 'pg';

/**
 * The API's own tables: login sessions, refresh tokens and login throttling. These are not
 * projections of the log (they hold short-lived secrets that must never be in it); losing them
 * only logs everyone out.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_auth': {
    async up(db) {
      await sql`
        CREATE TABLE auth_sessions (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL,
          tenant_id uuid NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL,
          revoked_at timestamptz,
          revoked_reason text
        );
        CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
        CREATE TABLE auth_refresh_tokens (
          token_hash text PRIMARY KEY,
          session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
          issued_at timestamptz NOT NULL DEFAULT now(),
          used_at timestamptz
        );
        CREATE INDEX auth_refresh_tokens_session ON auth_refresh_tokens (session_id);
        CREATE TABLE auth_login_failures (
          email text PRIMARY KEY,
          failures integer NOT NULL,
          last_failure_at timestamptz NOT NULL,
          locked_until timestamptz
        );
      `.execute(db);
    },
  },
};

/** This package's tables, for `telly migrate` and the component definition. */
export const apiMigrations: MigrationSet = { name: 'api', migrations: MIGRATIONS };

export function migrateApi(pool: pg.Pool): Promise<void> {
  return runMigrations(pool, apiMigrations);
}
