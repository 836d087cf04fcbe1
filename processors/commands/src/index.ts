export { component } from './component.ts';
export { DEFAULT_EXPIRY_INTERVAL_MS, startExpiryClock } from './expiry.ts';
export { commandsMigrations } from './migrations.ts';
export type { CommandStatus } from './projection.ts';
export { type CommandProjectionOptions, requestedProjection, statusProjection } from './projection.ts';
export type { CommandRow } from './queries.ts';
export { CommandQueries } from './queries.ts';
