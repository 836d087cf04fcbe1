import { type MigrationSet, sqlMigrations } from '@telly/runtime';

/** Rules, their evaluation state and timers, alerts and their actions. */
export const rulesMigrations: MigrationSet = sqlMigrations(
  'rules',
  new URL('./migrations/', import.meta.url),
);
