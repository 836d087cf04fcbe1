import { currentVersion, type EventData, type EventOf, type EventType } from './catalog.ts';
import { EventValidationError } from './errors.ts';
import { validateEvent } from './validate.ts';

/** What the caller decides about a new event. */
export interface CreateEventInput<T extends EventType> {
  readonly tenantId: string;
  readonly data: EventData<T>;
  /** User id, `apikey:<id>` or `system`; omitted when nobody in particular caused it. */
  readonly actor?: string | undefined;
}

/** Where the impure parts come from: ids and clocks are passed in, never read here. */
export interface CreateEventContext {
  /** The event id, a UUIDv7 (`v7()` from `uuid`). */
  readonly id: string;
  /** The event time, as a Date or ms since the epoch. */
  readonly now: Date | number;
}

/**
 * A new event of `type` at its current version, validated. Pure: the same arguments always
 * give the same event (same keys in the same order, so the same bytes from `encodeEvent`).
 * Throws {@link EventValidationError} when the result does not match the catalog.
 */
export function createEvent<T extends EventType>(
  type: T,
  input: CreateEventInput<T>,
  context: CreateEventContext,
): EventOf<T> {
  const ms = typeof context.now === 'number' ? context.now : context.now.getTime();
  // toISOString throws for years past 9999 and NaN; those are not instants the log can hold.
  if (!Number.isFinite(ms) || ms < 0 || ms > 253402300799999) {
    throw new EventValidationError(
      'INVALID_EVENT',
      `${type}: /time ${String(context.now)} is not a valid instant`,
      {
        path: '/time',
        eventType: type,
      },
    );
  }
  const event: Record<string, unknown> = {
    type,
    version: currentVersion(type),
    id: context.id,
    time: new Date(ms).toISOString(),
    tenantId: input.tenantId,
  };
  if (input.actor !== undefined) event.actor = input.actor;
  event.data = input.data;
  return validateEvent(event) as EventOf<T>;
}
