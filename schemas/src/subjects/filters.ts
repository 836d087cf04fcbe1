import { assertEventSubjectType, assertRegistryKind, registrySubject } from './build.ts';
import { SubjectError } from './errors.ts';
import { SUBJECT_PREFIXES } from './streams.ts';
import { assertToken, MAX_SUBTOPIC_DEPTH } from './tokens.ts';
import type { EventSubjectType, RegistryKind } from './types.ts';

/** NATS single-token wildcard. */
export const TOKEN_WILDCARD = '*';
/** NATS tail wildcard: one or more tokens, never zero. */
export const TAIL_WILDCARD = '>';

/** Which messages to select; an omitted field matches anything. */
export interface MessageFilterOptions {
  /** @default any tenant */
  readonly tenant?: string;
  /** @default any channel */
  readonly channel?: string;
  /** @default any thing */
  readonly thing?: string;
  /**
   * Subtopic filter tokens: tokens, `*` for one level, and a final `>` for one or more levels.
   * `[]` selects messages published without subtopic only.
   * @default any subtopic, including none
   */
  readonly subtopic?: readonly string[];
}

/**
 * Filter subjects selecting device messages, to use together as a consumer's
 * `filter_subjects`.
 *
 * Why more than one: a message without subtopic has exactly four tokens
 * (`msg.<t>.<c>.<thing>`) and NATS `>` matches one *or more* tokens, never zero. So "every
 * message of a thing" needs both `msg.<t>.*.<thing>` and `msg.<t>.*.<thing>.>`. When the
 * thing is unconstrained the pair collapses into one `….>` filter (every message subject has
 * a thing token), e.g. `msg.<t>.>` for a tenant and `msg.<t>.<c>.>` for a channel.
 */
export function messageFilters(options: MessageFilterOptions = {}): readonly string[] {
  const base = [
    SUBJECT_PREFIXES.MESSAGES,
    filterToken(options.tenant, 'tenant'),
    filterToken(options.channel, 'channel'),
    filterToken(options.thing, 'thing'),
  ];
  if (options.subtopic !== undefined) {
    return [[...base, ...subtopicFilterTokens(options.subtopic)].join('.')];
  }
  // `P.*` ∪ `P.*.>` is `P.>`, and a `*` before a `>` adds nothing either, since every
  // valid message subject has all four head tokens.
  while (base.length > 1 && base[base.length - 1] === TOKEN_WILDCARD) base.pop();
  if (base.length < 4) return [[...base, TAIL_WILDCARD].join('.')];
  const exact = base.join('.');
  return [exact, `${exact}.${TAIL_WILDCARD}`];
}

/** All messages of a tenant: `msg.<tenant>.>`. */
export function tenantMessagesFilter(tenant: string): string {
  return `${SUBJECT_PREFIXES.MESSAGES}.${assertToken(tenant, 'tenant')}.${TAIL_WILDCARD}`;
}

/** All messages on a channel, with or without subtopic: `msg.<tenant>.<channel>.>`. */
export function channelMessagesFilter(tenant: string, channel: string): string {
  return `${SUBJECT_PREFIXES.MESSAGES}.${assertToken(tenant, 'tenant')}.${assertToken(channel, 'channel')}.${TAIL_WILDCARD}`;
}

/**
 * All messages of a thing on any channel (or on `channel`), with or without subtopic:
 * `msg.<t>.*.<thing>` and `msg.<t>.*.<thing>.>` (see {@link messageFilters} for why two).
 */
export function thingMessagesFilters(tenant: string, thing: string, channel?: string): readonly string[] {
  return messageFilters(channel === undefined ? { tenant, thing } : { tenant, channel, thing });
}

/**
 * MQTT subscription semantics on a channel: `segments` are the topic levels after
 * `channels/{channel}/messages`, with `+` (one level) and a final `#` (this level and every
 * level below, *including none*, as MQTT 3.1.1 §4.7.1.2 says). Other publishers' things are
 * unconstrained. Throws `INVALID_FILTER` for misplaced wildcards.
 */
export function mqttMessageFilters(
  tenant: string,
  channel: string,
  segments: readonly string[],
): readonly string[] {
  const last = segments[segments.length - 1];
  if (last !== '#') {
    return messageFilters({ tenant, channel, subtopic: segments.map((s, i) => mqttLevel(s, i)) });
  }
  const parent = segments.slice(0, -1).map((s, i) => mqttLevel(s, i));
  if (parent.length === 0) return messageFilters({ tenant, channel });
  return [
    ...messageFilters({ tenant, channel, subtopic: parent }),
    ...messageFilters({ tenant, channel, subtopic: [...parent, TAIL_WILDCARD] }),
  ];
}

/** Which registry subjects to select; omitted fields match anything. */
export interface RegistryFilterOptions {
  readonly tenant?: string;
  readonly entity?: RegistryKind;
  readonly id?: string;
}

/** One registry filter: `reg.<tenant|*>.<kind|*>.<id|*>` (e.g. every thing of every tenant: `{ entity: 'thing' }`). */
export function registryFilter(options: RegistryFilterOptions = {}): string {
  if (options.tenant !== undefined && options.entity !== undefined && options.id !== undefined) {
    return registrySubject({ tenant: options.tenant, entity: options.entity, id: options.id });
  }
  const entity = options.entity === undefined ? TOKEN_WILDCARD : assertRegistryKind(options.entity);
  return [
    SUBJECT_PREFIXES.REGISTRY,
    filterToken(options.tenant, 'tenant'),
    entity,
    filterToken(options.id, 'id'),
  ].join('.');
}

/** Commands of a tenant (`cmd.<tenant>.*`) or of every tenant (`cmd.*.*`). */
export function commandsFilter(tenant?: string): string {
  return `${SUBJECT_PREFIXES.COMMANDS}.${filterToken(tenant, 'tenant')}.${TOKEN_WILDCARD}`;
}

/** Which derived events to select; omitted fields match anything. */
export interface EventFilterOptions {
  readonly tenant?: string;
  readonly type?: EventSubjectType;
  readonly thing?: string;
}

/** One event filter: `evt.<tenant|*>.<type|*>.<thing|*>` (e.g. every alert: `{ type: 'alert' }`). */
export function eventFilter(options: EventFilterOptions = {}): string {
  const type = options.type === undefined ? TOKEN_WILDCARD : assertEventSubjectType(options.type);
  return [
    SUBJECT_PREFIXES.EVENTS,
    filterToken(options.tenant, 'tenant'),
    type,
    filterToken(options.thing, 'thing'),
  ].join('.');
}

/**
 * NATS subject matching: `*` matches exactly one token, a final `>` one or more.
 * For in-process routing and tests; the server does the same for consumers.
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === TAIL_WILDCARD && i === f.length - 1) return s.length > i;
    if (i >= s.length) return false;
    if (token !== TOKEN_WILDCARD && token !== s[i]) return false;
  }
  return f.length === s.length;
}

function filterToken(token: string | undefined, field: string): string {
  return token === undefined ? TOKEN_WILDCARD : assertToken(token, field);
}

function subtopicFilterTokens(subtopic: readonly string[]): readonly string[] {
  if (subtopic.length > MAX_SUBTOPIC_DEPTH) {
    throw new SubjectError(
      'SUBTOPIC_TOO_DEEP',
      `subtopic filter has ${subtopic.length} levels, at most ${MAX_SUBTOPIC_DEPTH} are allowed`,
      { field: 'subtopic' },
    );
  }
  return subtopic.map((token, i) => {
    if (token === TOKEN_WILDCARD) return token;
    if (token === TAIL_WILDCARD) {
      if (i === subtopic.length - 1) return token;
      throw new SubjectError('INVALID_FILTER', `'>' may only be the last subtopic filter token`, {
        field: `subtopic[${i}]`,
        token,
      });
    }
    return assertToken(token, `subtopic[${i}]`);
  });
}

function mqttLevel(segment: string, i: number): string {
  if (segment === '+') return TOKEN_WILDCARD;
  if (segment === '#' || segment.includes('#') || segment.includes('+')) {
    throw new SubjectError(
      'INVALID_FILTER',
      `MQTT topic filter level ${JSON.stringify(segment)} is invalid: '+' must be a whole level and '#' the whole last level`,
      { field: `subtopic[${i}]`, token: segment },
    );
  }
  // A literal `*` or `>` level is legal in MQTT but would turn into a NATS wildcard here.
  return assertToken(segment, `subtopic[${i}]`);
}
