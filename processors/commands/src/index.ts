export { component } from './component.ts';
export { DEFAULT_EXPIRY_INTERVAL_MS, startExpiryClock } from './expiry.ts';
export { commandsMigrations } from './migrations.ts';
export type { CommandStatus } from './projection.ts';
export {
  type CommandProjectionOptions,
  requestedProjection,
  scheduledProjection,
  statusProjection,
} from './projection.ts';
export type { CommandRow } from './queries.ts';
export { CommandQueries } from './queries.ts';
export type { CommandRequest, RequestedCommand } from './request.ts';
export { cancelScheduledCommand, REVERT_OF_HEADER, requestCommand } from './request.ts';
