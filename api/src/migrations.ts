import { type MigrationSet, sqlMigrations } from '@telly/runtime';

/**
 * The API's own tables: login sessions, refresh tokens and login throttling. These are not
 * projections of the log (they hold short-lived secrets that must never be in it); losing them
 * only logs everyone out.
 */
export const apiMigrations: MigrationSet = sqlMigrations('api', new URL('./migrations/', import.meta.url));
