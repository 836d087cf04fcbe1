import { errorPredicate, TellyError } from '../errors.ts';

/** Stable codes of {@link EventValidationError}. */
export type EventValidationErrorCode =
  /** The bytes are not UTF-8 JSON. */
  | 'INVALID_JSON'
  /** Not an object with a string `type`. */
  | 'NOT_AN_EVENT'
  /** `type` is not in the catalog. */
  | 'UNKNOWN_EVENT_TYPE'
  /** `version` is not the current one and no upcaster brings it there. */
  | 'UNSUPPORTED_VERSION'
  /** The event does not match its schema; `path` says where. */
  | 'INVALID_EVENT'
  /** An upcaster threw or did not make progress. */
  | 'UPCAST_FAILED';

/** One schema violation, at a JSON Pointer into the event (`/data/thingId`). */
export interface EventValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** An event (or bytes claiming to be one) that does not match the catalog. */
export class EventValidationError extends TellyError<EventValidationErrorCode> {
  /** JSON Pointer of the first problem (`''` for the whole value). */
  readonly path: string;
  /** Every problem found (bounded), first one first. */
  readonly issues: readonly EventValidationIssue[];
  /** The event's `type` when it had a string one. */
  readonly eventType: string | undefined;

  constructor(
    code: EventValidationErrorCode,
    message: string,
    details: { path?: string; issues?: readonly EventValidationIssue[]; eventType?: string | undefined } = {},
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.path = details.path ?? '';
    this.issues = details.issues ?? [{ path: this.path, message }];
    this.eventType = details.eventType;
  }
}

/** True when `err` is an {@link EventValidationError} (optionally with the given code). */
export const isEventValidationError = errorPredicate(EventValidationError);
