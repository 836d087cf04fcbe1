/** Entity kinds with a registry subject `reg.<tenant>.<kind>.<id>`. */
export const REGISTRY_KINDS = [
  'tenant',
  'user',
  'thing',
  'channel',
  'rule',
  'model',
  'kafka',
  'apikey',
  'bootstrap',
] as const;
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

/** Families of derived facts with a subject `evt.<tenant>.<type>.<thing>`. */
export const EVENT_SUBJECT_TYPES = ['alert', 'inference', 'command', 'rejected', 'lifecycle'] as const;
export type EventSubjectType = (typeof EVENT_SUBJECT_TYPES)[number];

/**
 * The thing token of an `evt` subject for facts not attributable to one thing (a rejected
 * publish from a connection that never authenticated as a thing, …). Reserved: no thing may
 * use it as its id.
 */
export const NO_THING_TOKEN = '_';

/** `msg.<tenant>.<channel>.<thing>[.<subtopic>…]` — an accepted device message. */
export interface MessageSubject {
  readonly kind: 'msg';
  readonly tenant: string;
  readonly channel: string;
  readonly thing: string;
  /** Subtopic levels, `[]` when the device published on the channel itself. */
  readonly subtopic: readonly string[];
}

/** `reg.<tenant>.<entity>.<id>` — the history of one registry entity. */
export interface RegistrySubject {
  readonly kind: 'reg';
  readonly tenant: string;
  readonly entity: RegistryKind;
  readonly id: string;
}

/** `cmd.<tenant>.<thing>` — downlink commands for one thing. */
export interface CommandSubject {
  readonly kind: 'cmd';
  readonly tenant: string;
  readonly thing: string;
  /** `cmd.<tenant>.<thing>.scheduled.<command>`: the schedule of that command. */
  readonly scheduled?: string;
}

/** `evt.<tenant>.<type>.<thing>` — derived facts about one thing (or none: {@link NO_THING_TOKEN}). */
export interface EventSubject {
  readonly kind: 'evt';
  readonly tenant: string;
  readonly type: EventSubjectType;
  /** `undefined` when the fact is not about a known thing. */
  readonly thing: string | undefined;
}

/** `dlq.<processor>` — what one processor gave up on. */
export interface DlqSubject {
  readonly kind: 'dlq';
  readonly processor: string;
}

/** Any parsed Telly subject, discriminated on `kind` (its first token). */
export type TellySubject = MessageSubject | RegistrySubject | CommandSubject | EventSubject | DlqSubject;
export type SubjectKind = TellySubject['kind'];

/** Builder input: a parsed subject without its `kind`. */
export type MessageSubjectParts = Omit<MessageSubject, 'kind' | 'subtopic'> & {
  readonly subtopic?: readonly string[];
};
export type RegistrySubjectParts = Omit<RegistrySubject, 'kind'>;
export type CommandSubjectParts = Omit<CommandSubject, 'kind'>;
export type EventSubjectParts = Omit<EventSubject, 'kind' | 'thing'> & {
  readonly thing?: string | undefined;
};
