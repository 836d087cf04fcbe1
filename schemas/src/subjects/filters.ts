import {
  AUTH_REVOKED_PREFIX,
  assertEventSubjectType,
  assertRegistryKind,
  SCHEDULED_COMMAND_TOKEN,
} from './build.ts';
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

/** Commands of a tenant (`cmd.<tenant>.*`) or of every tenant (`cmd.*.*`). */
export function commandsFilter(tenant?: string): string {
  return `${SUBJECT_PREFIXES.COMMANDS}.${filterToken(tenant, 'tenant')}.${TOKEN_WILDCARD}`;
}

/** Every entity of one registry kind, of every tenant: `reg.*.<kind>.*`. */
export function registryKindFilter(kind: RegistryKind): string {
  return [SUBJECT_PREFIXES.REGISTRY, TOKEN_WILDCARD, assertRegistryKind(kind), TOKEN_WILDCARD].join('.');
}

/** Scheduled commands (`cmd.*.*.scheduled.*`): their schedules and cancellations. */
export function scheduledCommandsFilter(): string {
  return `${commandsFilter()}.${SCHEDULED_COMMAND_TOKEN}.${TOKEN_WILDCARD}`;
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

/** Every tenant's revocation notices (see `authRevokedSubject`). */
export function authRevokedFilter(): string {
  return `${AUTH_REVOKED_PREFIX}.${TOKEN_WILDCARD}`;
}
