import { type MigrationSet, sqlMigrations } from '@telly/runtime';

/** The device status read model: `device_status` and `device_rejections`. Rebuilt from the log. */
export const devicesMigrations: MigrationSet = sqlMigrations(
  'devices',
  new URL('./migrations/', import.meta.url),
);
