// SenML (RFC 8428): parse JSON/CBOR packs, resolve them, decode device messages by content type.
export type { AcceptPolicy, UnstorableCode } from './accept.ts';
export {
  acceptedWindow,
  checkAccepted,
  checkStorable,
  DEFAULT_ACCEPT_POLICY,
  isUnstorableError,
  STORABLE,
  UNSTORABLE_CODES,
} from './accept.ts';
export type { DecodedMessage, DecodeOptions, MessageFormat } from './decode.ts';
export { decodeMessage, messageFormat } from './decode.ts';
export { encodeResolvedJson, encodeSenmlCbor, encodeSenmlJson } from './encode.ts';
export type { SenmlErrorCode, SenmlErrorOptions } from './errors.ts';
export { isSenmlError, SenmlError } from './errors.ts';
export type { PlainJsonOptions } from './from-json.ts';
export { DEFAULT_MAX_DEPTH, fromPlainJson, isThingsBoardTelemetry } from './from-json.ts';
export { isValidSenmlName, SENML_NAME_PATTERN } from './names.ts';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORDS, parseSenmlCbor, parseSenmlJson } from './parse.ts';
export {
  msToSenmlTime,
  RELATIVE_TIME_LIMIT,
  resolveSenml,
  SENML_VERSION,
  senmlTimeToMs,
} from './resolve.ts';
export type { LogEntry, StoredMessage, TelemetryPoint } from './telemetry-points.ts';
export { pointsOf, telemetryPoints } from './telemetry-points.ts';
export type { ParseOptions, ResolvedSenmlRecord, ResolveOptions, SenmlPack, SenmlRecord } from './types.ts';
