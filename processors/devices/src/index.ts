export { component } from './component.ts';
export type { DevicesConfig } from './config.ts';
export { parseDevicesConfig } from './config.ts';
export { devicesMigrations } from './migrations.ts';
export type { RejectionBounds } from './projection.ts';
export {
  DEFAULT_REJECTION_BOUNDS,
  DEFAULT_REJECTIONS_MAX_AGE_MS,
  DEFAULT_REJECTIONS_PER_THING,
  DEVICES_EVENTS,
  DEVICES_MESSAGES,
  deviceEventsProjection,
  deviceMessagesProjection,
  pruneRejections,
} from './projection.ts';
export type { DeviceStatus, RejectionFilter, RejectionRow } from './queries.ts';
export { DeviceStatusQueries } from './queries.ts';
