export type {
  CreateEventContext,
  CreateEventInput,
  EventData,
  EventOf,
  EventType,
  TellyEvent,
  Upcaster,
  UpcasterTable,
} from './events/index.ts';
export {
  createEvent,
  decodeEvent,
  EVENT_SCHEMAS,
  EVENT_TYPE_HEADER,
  EVENT_TYPES,
  EventValidationError,
  encodeEvent,
  eventJsonSchemas,
  isEventOf,
  isEventValidationError,
  subjectOf,
  validateEvent,
} from './events/index.ts';
export type { DecodedMessage, ResolvedSenmlRecord, SenmlErrorCode, SenmlRecord } from './senml/index.ts';
export {
  decodeMessage,
  encodeResolvedJson,
  fromPlainJson,
  isSenmlError,
  messageFormat,
  parseSenmlCbor,
  parseSenmlJson,
  resolveSenml,
  SenmlError,
  senmlTimeToMs,
} from './senml/index.ts';
export type { StreamName, StreamSpec, TellySubject } from './subjects/index.ts';
export {
  commandSubject,
  dlqSubject,
  eventSubject,
  isSubjectError,
  KV_BUCKETS,
  messageFilters,
  messageSubject,
  OBJECT_STORES,
  parseMessageTopic,
  parseSubject,
  registrySubject,
  STREAMS,
  SUBJECT_PREFIXES,
  SubjectError,
} from './subjects/index.ts';
