import { errorPredicate, TellyError } from '../errors.ts';

/** Stable codes of {@link SubjectError}; callers branch on these, never on the message. */
export type SubjectErrorCode =
  | 'EMPTY_TOKEN'
  | 'TOKEN_TOO_LONG'
  | 'TOKEN_CONTAINS_DOT'
  | 'TOKEN_CONTAINS_WILDCARD'
  | 'TOKEN_CONTAINS_WHITESPACE'
  | 'TOKEN_CONTAINS_CONTROL_CHAR'
  | 'TOKEN_INVALID_CHAR'
  | 'RESERVED_TOKEN'
  | 'SUBTOPIC_TOO_DEEP'
  | 'SUBTOPIC_TOO_LONG'
  | 'SUBJECT_TOO_LONG'
  | 'UNKNOWN_PREFIX'
  | 'WRONG_TOKEN_COUNT'
  | 'UNKNOWN_REGISTRY_KIND'
  | 'UNKNOWN_EVENT_SUBJECT_TYPE'
  | 'UNEXPECTED_SUBJECT_KIND'
  | 'INVALID_FILTER'
  | 'INVALID_TOPIC'
  | 'INVALID_CONTENT_TYPE';

/** Where in a subject (or path) the problem is, for messages and for callers mapping to 4xx answers. */
export interface SubjectErrorDetails {
  /** The whole subject or path being built or parsed, when known. */
  readonly subject?: string;
  /** Which part was wrong: `tenant`, `thing`, `subtopic[2]`, … */
  readonly field?: string;
  /** The offending token, as given. */
  readonly token?: string;
}

/** A subject, subject token, subtopic or MQTT/HTTP path segment that Telly does not accept. */
export class SubjectError extends TellyError<SubjectErrorCode> {
  readonly subject: string | undefined;
  readonly field: string | undefined;
  readonly token: string | undefined;

  constructor(
    code: SubjectErrorCode,
    message: string,
    details: SubjectErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.subject = details.subject;
    this.field = details.field;
    this.token = details.token;
  }
}

/** True when `err` is a {@link SubjectError} (optionally with the given code). */
export const isSubjectError = errorPredicate(SubjectError);
