import { SubjectError, type SubjectErrorCode, type SubjectErrorDetails } from './errors.ts';

/** Longest accepted single token (an id or a subtopic level). UUIDs are 36. */
export const MAX_TOKEN_LENGTH = 128;
/** Most subtopic levels after the thing token (`msg.<t>.<c>.<thing>.a.b.c` has depth 3). */
export const MAX_SUBTOPIC_DEPTH = 16;
/** Longest subtopic, as joined with dots. */
export const MAX_SUBTOPIC_LENGTH = 256;
/** Longest subject any builder produces or any parser accepts. */
export const MAX_SUBJECT_LENGTH = 1024;

/**
 * The characters a token may hold. Deliberately narrower than what NATS allows: besides the
 * subject syntax (`.`, `*`, `>`, whitespace) it keeps out MQTT's `/ + #`, `$` (system
 * subjects), `%` (so nothing is ever half-decoded) and non-ASCII, so a token is the same
 * string in a NATS subject, an MQTT topic level, an HTTP path segment and a KV key prefix.
 */
const SAFE_TOKEN = /^[A-Za-z0-9_~:@=-]+$/;
const WHITESPACE = /\s/;

/**
 * Why `token` is not a valid subject token, or `undefined` when it is.
 * Ids (UUIDs) and subtopic levels follow the same rule.
 */
export function tokenProblem(token: string): SubjectErrorCode | undefined {
  if (token.length === 0) return 'EMPTY_TOKEN';
  if (token.length <= MAX_TOKEN_LENGTH && SAFE_TOKEN.test(token)) return undefined;
  for (const ch of token) {
    if (ch === '.') return 'TOKEN_CONTAINS_DOT';
    if (ch === '*' || ch === '>') return 'TOKEN_CONTAINS_WILDCARD';
    if (WHITESPACE.test(ch)) return 'TOKEN_CONTAINS_WHITESPACE';
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 'TOKEN_CONTAINS_CONTROL_CHAR';
  }
  if (!SAFE_TOKEN.test(token)) return 'TOKEN_INVALID_CHAR';
  return 'TOKEN_TOO_LONG';
}

/** True when `token` can stand as one subject token (id or subtopic level). */
export function isValidToken(token: string): boolean {
  return tokenProblem(token) === undefined;
}

const PROBLEM_TEXT: Record<SubjectErrorCode, string> = {
  EMPTY_TOKEN: 'is empty',
  TOKEN_TOO_LONG: `is longer than ${MAX_TOKEN_LENGTH} characters`,
  TOKEN_CONTAINS_DOT: "contains '.', the subject token separator",
  TOKEN_CONTAINS_WILDCARD: "contains a wildcard ('*' or '>')",
  TOKEN_CONTAINS_WHITESPACE: 'contains whitespace',
  TOKEN_CONTAINS_CONTROL_CHAR: 'contains a control character',
  TOKEN_INVALID_CHAR: 'contains a character outside [A-Za-z0-9_~:@=-]',
  RESERVED_TOKEN: 'is reserved',
  SUBTOPIC_TOO_DEEP: `has more than ${MAX_SUBTOPIC_DEPTH} levels`,
  SUBTOPIC_TOO_LONG: `is longer than ${MAX_SUBTOPIC_LENGTH} characters`,
  SUBJECT_TOO_LONG: `is longer than ${MAX_SUBJECT_LENGTH} characters`,
  UNKNOWN_PREFIX: 'has an unknown prefix',
  WRONG_TOKEN_COUNT: 'has the wrong number of tokens',
  UNKNOWN_REGISTRY_KIND: 'is not a registry kind',
  UNKNOWN_EVENT_SUBJECT_TYPE: 'is not an event subject type',
  UNEXPECTED_SUBJECT_KIND: 'is not of the expected kind',
  INVALID_FILTER: 'is not a valid filter',
  INVALID_TOPIC: 'is not a channel message topic',
  INVALID_CONTENT_TYPE: 'is not a valid content type',
};

/** Human text for a code, used to build messages (`thing "a b" contains whitespace`). */
export function describeProblem(code: SubjectErrorCode): string {
  return PROBLEM_TEXT[code];
}

/** Throws a {@link SubjectError} naming `field` unless `token` is a valid token; returns it. */
export function assertToken(token: string, field: string, subject?: string): string {
  // Non-strings can arrive from untyped callers (JSON, env); treat them as empty, not as a crash.
  if (typeof token !== 'string') token = '';
  const problem = tokenProblem(token);
  if (problem !== undefined) throw tokenError(problem, token, field, subject);
  return token;
}

/** Builds the error for a bad token, with a message that names the field and shows the token. */
export function tokenError(
  code: SubjectErrorCode,
  token: string,
  field: string,
  subject?: string,
): SubjectError {
  const where = subject === undefined ? '' : ` in ${JSON.stringify(subject)}`;
  const details: SubjectErrorDetails = { field, token, ...(subject === undefined ? {} : { subject }) };
  return new SubjectError(code, `${field} ${JSON.stringify(token)}${where} ${PROBLEM_TEXT[code]}`, details);
}

/** Validates subtopic tokens (depth, total length, each token); returns them unchanged. */
export function assertSubtopic(subtopic: readonly string[], subject?: string): readonly string[] {
  if (subtopic.length > MAX_SUBTOPIC_DEPTH) {
    throw new SubjectError(
      'SUBTOPIC_TOO_DEEP',
      `subtopic has ${subtopic.length} levels, at most ${MAX_SUBTOPIC_DEPTH} are allowed`,
      subject === undefined ? { field: 'subtopic' } : { field: 'subtopic', subject },
    );
  }
  let length = subtopic.length === 0 ? 0 : subtopic.length - 1;
  for (let i = 0; i < subtopic.length; i++) {
    const token = subtopic[i] as string;
    assertToken(token, `subtopic[${i}]`, subject);
    length += token.length;
  }
  if (length > MAX_SUBTOPIC_LENGTH) {
    throw new SubjectError(
      'SUBTOPIC_TOO_LONG',
      `subtopic is ${length} characters long, at most ${MAX_SUBTOPIC_LENGTH} are allowed`,
      subject === undefined ? { field: 'subtopic' } : { field: 'subtopic', subject },
    );
  }
  return subtopic;
}
