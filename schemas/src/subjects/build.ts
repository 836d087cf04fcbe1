import { SubjectError } from './errors.ts';
import { SUBJECT_PREFIXES } from './streams.ts';
import { assertSubtopic, assertToken, MAX_SUBJECT_LENGTH, tokenError } from './tokens.ts';
import {
  type CommandSubjectParts,
  EVENT_SUBJECT_TYPES,
  type EventSubjectParts,
  type EventSubjectType,
  type MessageSubjectParts,
  NO_THING_TOKEN,
  REGISTRY_KINDS,
  type RegistryKind,
  type RegistrySubjectParts,
  type TellySubject,
} from './types.ts';

/**
 * `Telly-Protocol` of the messages the inference component writes (a bound model's results
 * under `inference/<model>`): the thing did not speak, so its last message and presence stay.
 */
export const INFERENCE_RESULT_PROTOCOL = 'inference';

/** `msg.<tenant>.<channel>.<thing>[.<subtopic>…]`. Throws {@link SubjectError} on a bad token. */
export function messageSubject(parts: MessageSubjectParts): string {
  const head = `${SUBJECT_PREFIXES.MESSAGES}.${assertToken(parts.tenant, 'tenant')}.${assertToken(parts.channel, 'channel')}.${assertToken(parts.thing, 'thing')}`;
  const subtopic = parts.subtopic ?? [];
  return checkLength(subtopic.length === 0 ? head : `${head}.${assertSubtopic(subtopic).join('.')}`);
}

/** `reg.<tenant>.<entity>.<id>`. */
export function registrySubject(parts: RegistrySubjectParts): string {
  assertRegistryKind(parts.entity);
  return checkLength(
    `${SUBJECT_PREFIXES.REGISTRY}.${assertToken(parts.tenant, 'tenant')}.${parts.entity}.${assertToken(parts.id, 'id')}`,
  );
}

/** `cmd.<tenant>.<thing>`. */
export function commandSubject(parts: CommandSubjectParts): string {
  return checkLength(
    `${SUBJECT_PREFIXES.COMMANDS}.${assertToken(parts.tenant, 'tenant')}.${assertToken(parts.thing, 'thing')}`,
  );
}

/** The token after `cmd.<tenant>.<thing>` of a scheduled command's subject. */
export const SCHEDULED_COMMAND_TOKEN = 'scheduled';

/**
 * `cmd.<tenant>.<thing>.scheduled.<command>`: the NATS message schedule (ADR-51) that sends
 * the command later onto `cmd.<tenant>.<thing>`. One subject per scheduled command, as the
 * server keeps one schedule per subject; also where its cancellation is recorded.
 */
export function scheduledCommandSubject(parts: CommandSubjectParts & { command: string }): string {
  return checkLength(
    `${commandSubject(parts)}.${SCHEDULED_COMMAND_TOKEN}.${assertToken(parts.command, 'command')}`,
  );
}

/** `evt.<tenant>.<type>.<thing>`; `thing` omitted gives {@link NO_THING_TOKEN}. */
export function eventSubject(parts: EventSubjectParts): string {
  assertEventSubjectType(parts.type);
  const thing = parts.thing === undefined ? NO_THING_TOKEN : assertThingForEvent(parts.thing);
  return checkLength(
    `${SUBJECT_PREFIXES.EVENTS}.${assertToken(parts.tenant, 'tenant')}.${parts.type}.${thing}`,
  );
}

/** The first tokens of the API's credential revocation notices (core NATS, in no stream). */
export const AUTH_REVOKED_PREFIX = 'telly.auth.revoked';

/**
 * `telly.auth.revoked.<tenant>`: a session, API key or role of the tenant changed, so every API
 * instance drops its cached credentials and re-checks the tenant's live subscriptions.
 */
export function authRevokedSubject(tenant: string): string {
  return checkLength(`${AUTH_REVOKED_PREFIX}.${assertToken(tenant, 'tenant')}`);
}

/** `dlq.<processor>`. */
export function dlqSubject(processor: string): string {
  return checkLength(`${SUBJECT_PREFIXES.DLQ}.${assertToken(processor, 'processor')}`);
}

/** The subject of any parsed subject: the exact inverse of `parseSubject`. */
export function formatSubject(subject: TellySubject): string {
  switch (subject.kind) {
    case 'msg':
      return messageSubject(subject);
    case 'reg':
      return registrySubject(subject);
    case 'cmd':
      return subject.scheduled === undefined
        ? commandSubject(subject)
        : scheduledCommandSubject({ ...subject, command: subject.scheduled });
    case 'evt':
      return eventSubject(subject);
    case 'dlq':
      return dlqSubject(subject.processor);
  }
}

export function assertRegistryKind(kind: string, subject?: string): RegistryKind {
  if (!(REGISTRY_KINDS as readonly string[]).includes(kind)) {
    throw new SubjectError(
      'UNKNOWN_REGISTRY_KIND',
      `registry kind ${JSON.stringify(kind)} is not one of ${REGISTRY_KINDS.join(', ')}`,
      subject === undefined ? { field: 'entity', token: kind } : { field: 'entity', token: kind, subject },
    );
  }
  return kind as RegistryKind;
}

export function assertEventSubjectType(type: string, subject?: string): EventSubjectType {
  if (!(EVENT_SUBJECT_TYPES as readonly string[]).includes(type)) {
    throw new SubjectError(
      'UNKNOWN_EVENT_SUBJECT_TYPE',
      `event subject type ${JSON.stringify(type)} is not one of ${EVENT_SUBJECT_TYPES.join(', ')}`,
      subject === undefined ? { field: 'type', token: type } : { field: 'type', token: type, subject },
    );
  }
  return type as EventSubjectType;
}

function assertThingForEvent(thing: string): string {
  if (thing === NO_THING_TOKEN) throw tokenError('RESERVED_TOKEN', thing, 'thing');
  return assertToken(thing, 'thing');
}

function checkLength(subject: string): string {
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new SubjectError(
      'SUBJECT_TOO_LONG',
      `subject is ${subject.length} characters long, at most ${MAX_SUBJECT_LENGTH} are allowed`,
      { subject },
    );
  }
  return subject;
}
