export {
  AUTH_REVOKED_PREFIX,
  authRevokedSubject,
  commandSubject,
  dlqSubject,
  eventSubject,
  formatSubject,
  messageSubject,
  registrySubject,
} from './build.ts';
export type { SubjectErrorCode, SubjectErrorDetails } from './errors.ts';
export { isSubjectError, SubjectError } from './errors.ts';
export type { EventFilterOptions, MessageFilterOptions } from './filters.ts';
export {
  authRevokedFilter,
  commandsFilter,
  eventFilter,
  messageFilters,
  TAIL_WILDCARD,
  TOKEN_WILDCARD,
} from './filters.ts';
export {
  parseCommandSubject,
  parseDlqSubject,
  parseEventSubject,
  parseMessageSubject,
  parseRegistrySubject,
  parseSubject,
} from './parse.ts';
export type { StreamName, StreamSpec } from './streams.ts';
export { KV_BUCKETS, OBJECT_STORES, STREAMS, SUBJECT_PREFIXES } from './streams.ts';
export type { MessageTopic } from './subtopic.ts';
export {
  CONTENT_TYPE_MARKER,
  decodeContentTypeSegment,
  encodeContentTypeSegment,
  parseMessageTopic,
  splitContentTypeSuffix,
  subtopicFromPath,
  subtopicFromSegments,
  subtopicToPath,
} from './subtopic.ts';
export {
  assertToken,
  isValidToken,
  MAX_SUBJECT_LENGTH,
  MAX_SUBTOPIC_DEPTH,
  MAX_SUBTOPIC_LENGTH,
  MAX_TOKEN_LENGTH,
  tokenProblem,
} from './tokens.ts';
export type {
  CommandSubject,
  CommandSubjectParts,
  DlqSubject,
  EventSubject,
  EventSubjectParts,
  EventSubjectType,
  MessageSubject,
  MessageSubjectParts,
  RegistryKind,
  RegistrySubject,
  RegistrySubjectParts,
  SubjectKind,
  TellySubject,
} from './types.ts';
export { EVENT_SUBJECT_TYPES, NO_THING_TOKEN, REGISTRY_KINDS } from './types.ts';
