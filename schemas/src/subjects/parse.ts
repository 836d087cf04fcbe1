import { assertEventSubjectType, assertRegistryKind, SCHEDULED_COMMAND_TOKEN } from './build.ts';
import { SubjectError } from './errors.ts';
import { SUBJECT_PREFIXES } from './streams.ts';
import { assertSubtopic, assertToken, MAX_SUBJECT_LENGTH } from './tokens.ts';
import {
  type CommandSubject,
  type DlqSubject,
  type EventSubject,
  type MessageSubject,
  NO_THING_TOKEN,
  type RegistrySubject,
  type SubjectKind,
  type TellySubject,
} from './types.ts';

/**
 * Parses any Telly subject into a typed object, validating every token.
 * Throws {@link SubjectError} for anything a builder could not have produced.
 */
export function parseSubject(subject: string): TellySubject {
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new SubjectError('UNKNOWN_PREFIX', 'a subject must be a non-empty string', {
      subject: String(subject ?? ''),
    });
  }
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new SubjectError(
      'SUBJECT_TOO_LONG',
      `subject is ${subject.length} characters long, at most ${MAX_SUBJECT_LENGTH} are allowed`,
      { subject },
    );
  }
  const tokens = subject.split('.');
  switch (tokens[0]) {
    case SUBJECT_PREFIXES.MESSAGES:
      return parseMessageTokens(tokens, subject);
    case SUBJECT_PREFIXES.REGISTRY:
      return parseRegistryTokens(tokens, subject);
    case SUBJECT_PREFIXES.COMMANDS:
      return parseCommandTokens(tokens, subject);
    case SUBJECT_PREFIXES.EVENTS:
      return parseEventTokens(tokens, subject);
    case SUBJECT_PREFIXES.DLQ:
      return parseDlqTokens(tokens, subject);
    default:
      throw new SubjectError(
        'UNKNOWN_PREFIX',
        `subject ${JSON.stringify(subject)} does not start with one of ${Object.values(SUBJECT_PREFIXES).join(', ')}`,
        { subject, field: 'prefix', token: tokens[0] ?? '' },
      );
  }
}

/** Parses a subject that must be a `msg` subject (the hot path of every telemetry consumer). */
export function parseMessageSubject(subject: string): MessageSubject {
  return expectKind(parseSubject(subject), 'msg', subject);
}
/** Parses a subject that must be a `reg` subject. */
export function parseRegistrySubject(subject: string): RegistrySubject {
  return expectKind(parseSubject(subject), 'reg', subject);
}
/** Parses a subject that must be a `cmd` subject. */
export function parseCommandSubject(subject: string): CommandSubject {
  return expectKind(parseSubject(subject), 'cmd', subject);
}
/** Parses a subject that must be an `evt` subject. */
export function parseEventSubject(subject: string): EventSubject {
  return expectKind(parseSubject(subject), 'evt', subject);
}
/** Parses a subject that must be a `dlq` subject. */
export function parseDlqSubject(subject: string): DlqSubject {
  return expectKind(parseSubject(subject), 'dlq', subject);
}

function expectKind<K extends SubjectKind>(
  parsed: TellySubject,
  kind: K,
  subject: string,
): Extract<TellySubject, { kind: K }> {
  if (parsed.kind !== kind) {
    throw new SubjectError(
      'UNEXPECTED_SUBJECT_KIND',
      `subject ${JSON.stringify(subject)} is a ${parsed.kind} subject, expected ${kind}`,
      { subject, field: 'prefix', token: parsed.kind },
    );
  }
  return parsed as Extract<TellySubject, { kind: K }>;
}

function expectCount(tokens: readonly string[], count: number, shape: string, subject: string): void {
  if (tokens.length !== count) {
    throw new SubjectError(
      'WRONG_TOKEN_COUNT',
      `subject ${JSON.stringify(subject)} has ${tokens.length} tokens, expected ${count} (${shape})`,
      { subject },
    );
  }
}

function parseMessageTokens(tokens: string[], subject: string): MessageSubject {
  if (tokens.length < 4) {
    throw new SubjectError(
      'WRONG_TOKEN_COUNT',
      `subject ${JSON.stringify(subject)} has ${tokens.length} tokens, expected at least 4 (msg.<tenant>.<channel>.<thing>[.<subtopic>…])`,
      { subject },
    );
  }
  const [, tenant = '', channel = '', thing = ''] = tokens;
  return {
    kind: 'msg',
    tenant: assertToken(tenant, 'tenant', subject),
    channel: assertToken(channel, 'channel', subject),
    thing: assertToken(thing, 'thing', subject),
    subtopic: assertSubtopic(tokens.slice(4), subject),
  };
}

function parseRegistryTokens(tokens: string[], subject: string): RegistrySubject {
  expectCount(tokens, 4, 'reg.<tenant>.<kind>.<id>', subject);
  const [, tenant = '', entity = '', id = ''] = tokens;
  return {
    kind: 'reg',
    tenant: assertToken(tenant, 'tenant', subject),
    entity: assertRegistryKind(entity, subject),
    id: assertToken(id, 'id', subject),
  };
}

function parseCommandTokens(tokens: string[], subject: string): CommandSubject {
  const scheduled = tokens.length === 5 && tokens[3] === SCHEDULED_COMMAND_TOKEN;
  if (!scheduled) expectCount(tokens, 3, 'cmd.<tenant>.<thing>', subject);
  const [, tenant = '', thing = '', , command = ''] = tokens;
  const parsed = {
    kind: 'cmd',
    tenant: assertToken(tenant, 'tenant', subject),
    thing: assertToken(thing, 'thing', subject),
  } as const;
  return scheduled ? { ...parsed, scheduled: assertToken(command, 'command', subject) } : parsed;
}

function parseEventTokens(tokens: string[], subject: string): EventSubject {
  expectCount(tokens, 4, 'evt.<tenant>.<type>.<thing>', subject);
  const [, tenant = '', type = '', thing = ''] = tokens;
  return {
    kind: 'evt',
    tenant: assertToken(tenant, 'tenant', subject),
    type: assertEventSubjectType(type, subject),
    thing: thing === NO_THING_TOKEN ? undefined : assertToken(thing, 'thing', subject),
  };
}

function parseDlqTokens(tokens: string[], subject: string): DlqSubject {
  expectCount(tokens, 2, 'dlq.<processor>', subject);
  return { kind: 'dlq', processor: assertToken(tokens[1] ?? '', 'processor', subject) };
}
