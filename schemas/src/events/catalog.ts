import type { Static } from 'typebox';
import { ALERT_EVENTS } from './alerts.ts';
import { COMMAND_EVENTS } from './commands.ts';
import { INFERENCE_EVENTS } from './inference.ts';
import { INGEST_EVENTS } from './ingest.ts';
import { REGISTRY_EVENTS } from './registry.ts';

/** Every event type's current schema, by type. Adding an event means adding it to its group. */
export const EVENT_SCHEMAS = {
  ...REGISTRY_EVENTS,
  ...COMMAND_EVENTS,
  ...ALERT_EVENTS,
  ...INFERENCE_EVENTS,
  ...INGEST_EVENTS,
} as const;

export type EventSchemas = typeof EVENT_SCHEMAS;
/** `'thing.created' | 'alert.raised' | …` */
export type EventType = keyof EventSchemas;
/** Any Telly event, discriminated on `type`. */
export type TellyEvent = { [K in EventType]: Static<EventSchemas[K]> }[EventType];
/** The event of one type: `EventOf<'thing.created'>`. */
export type EventOf<T extends EventType> = Extract<TellyEvent, { type: T }>;
/** The `data` of one event type. */
export type EventData<T extends EventType> = EventOf<T>['data'];

/** Every event type, in catalog order. */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(Object.keys(EVENT_SCHEMAS) as EventType[]);

/** True when `type` names an event of the catalog. */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(EVENT_SCHEMAS, type);
}

/** The version this build writes (and reads after upcasting) for `type`. */
export function currentVersion(type: EventType): number {
  return (EVENT_SCHEMAS[type].properties.version as unknown as { const: number }).const;
}

/** Narrows an event to one type (or one of several): `if (isEventOf(e, 'thing.created')) e.data.keyHash`. */
export function isEventOf<T extends EventType>(
  event: TellyEvent,
  type: T | readonly T[],
): event is EventOf<T> {
  return typeof type === 'string' ? event.type === type : (type as readonly string[]).includes(event.type);
}

/** A published JSON Schema (draft 2020-12) of one event type and version. */
export interface EventJsonSchema {
  readonly $schema: 'https://json-schema.org/draft/2020-12/schema';
  readonly $id: string;
  readonly title: string;
  readonly [keyword: string]: unknown;
}

/**
 * The JSON Schema of every event type, as plain JSON (for consumers in other languages and
 * for `schemas/json/`, written by `write-json-schemas.ts`). Fresh objects on every call.
 */
export function eventJsonSchemas(): EventJsonSchema[] {
  return EVENT_TYPES.map((type) => {
    // The JSON round trip drops TypeBox's non-enumerable bookkeeping, leaving plain JSON Schema.
    const { $id, title, description, ...rest } = JSON.parse(JSON.stringify(EVENT_SCHEMAS[type])) as {
      $id: string;
      title: string;
      description: string;
    };
    return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id, title, description, ...rest };
  });
}
