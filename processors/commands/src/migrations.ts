import { type MigrationSet, sqlMigrations } from '@telly/runtime';

/** The commands read model: one row per command with its latest status. Rebuilt from the log. */
export const commandsMigrations: MigrationSet = sqlMigrations(
  'commands',
  new URL('./migrations/', import.meta.url),
);
