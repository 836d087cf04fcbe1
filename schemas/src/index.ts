export type { CredentialErrorCode } from './credentials/errors.ts';
export { CredentialError, isCredentialError } from './credentials/errors.ts';
export { isKeyHash, KEY_HASH_PATTERN, KEY_HASH_PREFIX, keyHash } from './credentials/key-hash.ts';
export { CREDENTIAL_KEYS_FILTER, credentialKvKey, keyHashFromKvKey } from './credentials/kv-key.ts';
export { parseThingAuthorization, THING_AUTH_SCHEME } from './credentials/thing-authorization.ts';
export type { CredentialEntry, ThingCredential, ThingRateLimit } from './credentials/thing-credential.ts';
export {
  credentialOfEntry,
  decodeThingCredential,
  encodeThingCredential,
  isThingRateLimit,
  MAX_THING_RATE_BURST,
  MAX_THING_RATE_PER_SECOND,
  sameAccess,
} from './credentials/thing-credential.ts';
export type { DurationErrorCode, DurationOptions, DurationUnit } from './duration.ts';
export {
  DURATION_UNITS,
  DurationError,
  isDurationError,
  MAX_DURATION_LENGTH,
  parseDuration,
} from './duration.ts';
export type { CodedError, ErrorPredicate } from './errors.ts';
export { errorPredicate, TellyError } from './errors.ts';
export type { AlertSeverity } from './events/alerts.ts';
export { ALERT_SEVERITIES } from './events/alerts.ts';
export type { EventData, EventOf, EventType, TellyEvent } from './events/catalog.ts';
export { EVENT_SCHEMAS, EVENT_TYPES, eventJsonSchemas, isEventOf } from './events/catalog.ts';
export type { Upcaster, UpcasterTable } from './events/codec.ts';
export { decodeEvent, EVENT_TYPE_HEADER, encodeEvent } from './events/codec.ts';
export type { Protocol } from './events/common.ts';
export type { CreateEventContext, CreateEventInput } from './events/create.ts';
export { createEvent } from './events/create.ts';
export { EventValidationError, isEventValidationError } from './events/errors.ts';
export type { OfflineReason, RejectionReason } from './events/ingest.ts';
export { OFFLINE_REASONS, REJECTION_REASONS } from './events/ingest.ts';
export type { KafkaSinkEventType, KafkaSourceFormat, KafkaThingFrom } from './events/kafka.ts';
export {
  KAFKA_SINK_EVENT_TYPES,
  KAFKA_SOURCE_FORMATS,
  KAFKA_THING_FROM,
  KAFKA_TOPIC_PATTERN,
} from './events/kafka.ts';
export type { ModelEventType, ModelPostprocessing, ModelPreprocessing } from './events/models.ts';
export { MODEL_NAME_PATTERN } from './events/models.ts';
export type { UserRole } from './events/registry.ts';
export { REGISTRY_EVENTS, USER_ROLES } from './events/registry.ts';
export type { RuleDefinition } from './events/rules.ts';
export {
  MAX_RULE_METADATA_KEY_LENGTH,
  MAX_RULE_METADATA_KEYS,
  MAX_RULE_METADATA_VALUE_LENGTH,
  RULE_ACTION_KINDS,
  RULE_AGGREGATES,
  RULE_OPS,
} from './events/rules.ts';
export { subjectOf } from './events/subject.ts';
export { validateEvent } from './events/validate.ts';
export type { TellyIdErrorCode } from './ids.ts';
export {
  isTellyId,
  isTellyIdError,
  NO_SUCH_ID,
  parseTellyId,
  TELLY_ID_LENGTH,
  TellyIdError,
  tellyIdOrNone,
  UUID_PATTERN,
  UUID_V7_PATTERN,
} from './ids.ts';
export type { AcceptPolicy, UnstorableCode } from './senml/accept.ts';
export {
  acceptedWindow,
  checkAccepted,
  checkStorable,
  DEFAULT_ACCEPT_POLICY,
  isUnstorableError,
  STORABLE,
  UNSTORABLE_CODES,
} from './senml/accept.ts';
export type { DecodedMessage } from './senml/decode.ts';
export { decodeMessage, messageFormat } from './senml/decode.ts';
export { encodeResolvedJson } from './senml/encode.ts';
export type { SenmlErrorCode } from './senml/errors.ts';
export { isSenmlError, SenmlError } from './senml/errors.ts';
export { fromPlainJson } from './senml/from-json.ts';
export { parseSenmlCbor, parseSenmlJson } from './senml/parse.ts';
export { resolveSenml, senmlTimeToMs } from './senml/resolve.ts';
export type { LogEntry, StoredMessage, TelemetryPoint } from './senml/telemetry-points.ts';
export { pointsOf, telemetryPoints } from './senml/telemetry-points.ts';
export type { ResolvedSenmlRecord, SenmlRecord } from './senml/types.ts';
export {
  authRevokedSubject,
  commandSubject,
  dlqSubject,
  eventSubject,
  INFERENCE_RESULT_PROTOCOL,
  messageSubject,
  registrySubject,
  scheduledCommandSubject,
} from './subjects/build.ts';
export { isSubjectError, SubjectError } from './subjects/errors.ts';
export type { EventFilterOptions, MessageFilterOptions } from './subjects/filters.ts';
export {
  authRevokedFilter,
  commandsFilter,
  eventFilter,
  messageFilters,
  registryKindFilter,
  scheduledCommandsFilter,
} from './subjects/filters.ts';
export { parseSubject } from './subjects/parse.ts';
export type { StreamName, StreamSpec } from './subjects/streams.ts';
export { KV_BUCKETS, OBJECT_STORES, STREAMS, SUBJECT_PREFIXES } from './subjects/streams.ts';
export { parseMessageTopic } from './subjects/subtopic.ts';
export type { MessageSubject, RegistryKind, TellySubject } from './subjects/types.ts';
export { REGISTRY_KINDS } from './subjects/types.ts';
