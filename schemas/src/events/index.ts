export type { AlertSeverity } from './alerts.ts';
export { ALERT_SEVERITIES } from './alerts.ts';
export type { EventData, EventJsonSchema, EventOf, EventSchemas, EventType, TellyEvent } from './catalog.ts';
export {
  currentVersion,
  EVENT_SCHEMAS,
  EVENT_TYPES,
  eventJsonSchemas,
  isEventOf,
  isEventType,
} from './catalog.ts';
export type { DecodeOptions, StoredEvent, Upcaster, UpcasterTable } from './codec.ts';
export { decodeEvent, EVENT_TYPE_HEADER, encodeEvent, UPCASTERS, upcastEvent } from './codec.ts';
export type { Protocol } from './common.ts';
export { EVENT_SCHEMA_BASE_URL, eventSchemaId, PROTOCOLS } from './common.ts';
export type { CreateEventContext, CreateEventInput } from './create.ts';
export { createEvent } from './create.ts';
export type { EventValidationErrorCode, EventValidationIssue } from './errors.ts';
export { EventValidationError, isEventValidationError } from './errors.ts';
export type { OfflineReason, RejectionReason } from './ingest.ts';
export { OFFLINE_REASONS, REJECTION_REASONS } from './ingest.ts';
export type { UserRole } from './registry.ts';
export { REGISTRY_EVENTS, USER_ROLES } from './registry.ts';
export { subjectOf } from './subject.ts';
export { validateEvent } from './validate.ts';
