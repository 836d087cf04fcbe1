/**
 * Telly's entity ids (tenants, users, things, channels, API keys, commands): canonical UUIDs,
 * lowercase and dashed, of any version (Telly mints UUIDv7). The one definition of a
 * well-formed id; a string that is not one can name nothing.
 */

import { errorPredicate } from './errors.ts';

const HEX = '[0-9a-f]';
/** Canonical (lowercase) UUID of any version, as a JSON Schema / RegExp pattern. */
export const UUID_PATTERN = `^${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}$`;
/** Canonical (lowercase) UUIDv7, what `uuid`'s `v7()` returns. */
export const UUID_V7_PATTERN = `^${HEX}{8}-${HEX}{4}-7${HEX}{3}-[89ab]${HEX}{3}-${HEX}{12}$`;

/** Length of every Telly id (`8-4-4-4-12` hex digits and dashes). */
export const TELLY_ID_LENGTH = 36;

const UUID_RE = new RegExp(UUID_PATTERN);

/** True for a Telly id: a canonical lowercase UUID string of {@link TELLY_ID_LENGTH} characters. */
export function isTellyId(value: unknown): value is string {
  return typeof value === 'string' && value.length === TELLY_ID_LENGTH && UUID_RE.test(value);
}

/** The nil UUID: well-formed, and the id of nothing (Telly mints UUIDv7, never this one). */
export const NO_SUCH_ID = '00000000-0000-0000-0000-000000000000';

/**
 * `value` when it is a Telly id, else {@link NO_SUCH_ID}. A malformed id names nothing, so it is
 * read as an id that names nothing: a lookup then answers it exactly as it answers an unknown id
 * (and a `uuid` column never sees a string Postgres would refuse).
 */
export function tellyIdOrNone(value: unknown): string {
  return isTellyId(value) ? value : NO_SUCH_ID;
}

/** Stable codes of {@link TellyIdError}. */
export type TellyIdErrorCode = 'MALFORMED_ID';

/**
 * A value given as an id that is not a Telly id. A `TypeError` (a value of the wrong form, as
 * callers of `parseTellyId` and the id-taking functions built on it expect), so it cannot extend
 * `TellyError`; it carries the same `code` and `name` and its predicate is made the same way.
 */
export class TellyIdError extends TypeError {
  override readonly name = 'TellyIdError';
  readonly code: TellyIdErrorCode = 'MALFORMED_ID';
  /** What the value was given as: `thingId`, `sub`, … */
  readonly field: string;

  constructor(field: string, value: unknown, options?: ErrorOptions) {
    super(`${field} must be a lowercase UUID, got ${describe(value)}`, options);
    this.field = field;
  }
}

/** True when `err` is a {@link TellyIdError}. */
export const isTellyIdError = errorPredicate(TellyIdError);

/**
 * `value` as a Telly id, unchanged (no case folding: `"A…"` is not an id, so it cannot alias one).
 * @throws TellyIdError naming `field` when `value` is not a Telly id.
 */
export function parseTellyId(value: unknown, field = 'id'): string {
  if (!isTellyId(value)) throw new TellyIdError(field, value);
  return value;
}

/** The value for a message, cut short: ids are short, and whatever came instead may not be. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
