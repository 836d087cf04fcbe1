import { type SqlMigrationSet, sqlMigrations } from '@telly/runtime';

/**
 * The telemetry read model's versions, frozen SQL in src/migrations/. A replay builds its fresh
 * tables from them too (replay/shadow.ts), so a change of shape is only a new migration.
 */
export const telemetryMigrations: SqlMigrationSet = sqlMigrations(
  'telemetry',
  new URL('./migrations/', import.meta.url),
);
