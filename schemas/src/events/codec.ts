import type { TellyEvent } from './catalog.ts';
import { EventValidationError } from './errors.ts';
import { validateEvent } from './validate.ts';

/** NATS header carrying the event type on every REGISTRY (and EVENTS/COMMANDS) entry. */
export const EVENT_TYPE_HEADER = 'Telly-Event';

/** An event as stored, before it is known to match the current catalog. */
export interface StoredEvent {
  readonly type: string;
  readonly version: number;
  readonly [key: string]: unknown;
}

/**
 * Brings an event from one version to the next (`version` + 1, or a renamed `type`). Must be
 * pure: the log is replayed through it forever.
 */
export type Upcaster = (event: StoredEvent) => StoredEvent;

/** Upcasters by event type, then by the version they upcast *from*. */
export type UpcasterTable = { readonly [type: string]: { readonly [fromVersion: number]: Upcaster } };

/**
 * The upcasters of this build. Empty while every event is at v1; when an event moves to v2,
 * its v1 → v2 upcaster goes here (the v1 schema stays out of the catalog).
 */
export const UPCASTERS: UpcasterTable = Object.freeze({});

/** Options of {@link decodeEvent} and {@link upcastEvent}. */
export interface DecodeOptions {
  /** @default UPCASTERS */
  readonly upcasters?: UpcasterTable;
}

// Guards against an upcaster that returns its input: no real chain is this long.
const MAX_UPCASTS = 32;

/**
 * Applies upcasters until none matches the event's (type, version). Values that are not
 * objects with a string type and numeric version pass through untouched for
 * `validateEvent` to reject.
 */
export function upcastEvent(value: unknown, options: DecodeOptions = {}): unknown {
  const upcasters = options.upcasters ?? UPCASTERS;
  let current = value;
  for (let step = 0; step <= MAX_UPCASTS; step++) {
    if (!isStored(current)) return current;
    const { type, version } = current;
    const byVersion = Object.hasOwn(upcasters, type) ? upcasters[type] : undefined;
    const upcaster =
      byVersion !== undefined && Object.hasOwn(byVersion, version) ? byVersion[version] : undefined;
    if (upcaster === undefined) return current;
    try {
      current = upcaster(current);
    } catch (cause) {
      throw new EventValidationError(
        'UPCAST_FAILED',
        `upcasting ${type} v${version} failed: ${String(cause)}`,
        { eventType: type },
        { cause },
      );
    }
  }
  throw new EventValidationError('UPCAST_FAILED', `upcasting did not finish within ${MAX_UPCASTS} steps`);
}

/** JSON bytes of a validated event; throws {@link EventValidationError} if it is not one. */
export function encodeEvent(event: TellyEvent): Uint8Array {
  return encoder.encode(JSON.stringify(validateEvent(event)));
}

/**
 * Bytes (UTF-8 JSON) → a validated, current-version event: parse, upcast older versions,
 * validate. Throws {@link EventValidationError} (`INVALID_JSON`, `UNKNOWN_EVENT_TYPE`,
 * `UNSUPPORTED_VERSION`, `INVALID_EVENT`, …).
 */
export function decodeEvent(bytes: Uint8Array | string, options: DecodeOptions = {}): TellyEvent {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : decoder.decode(bytes));
  } catch (cause) {
    throw new EventValidationError(
      'INVALID_JSON',
      `event is not UTF-8 JSON: ${String(cause)}`,
      {},
      { cause },
    );
  }
  return validateEvent(upcastEvent(value, options));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isStored(value: unknown): value is StoredEvent {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    typeof (value as { version?: unknown }).version === 'number'
  );
}
