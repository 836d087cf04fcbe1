/**
 * The one duration grammar of Telly's interfaces (command TTLs, telemetry buckets): a whole
 * number and a unit, `"500ms"`, `"90s"`, `"5m"`, `"1h"`, `"1d"`, `"1w"`. No fractions, no
 * compound forms (`"1h30m"`), and a bare number only where the caller names its unit (command
 * line options: `--duration=90`): each string has one reading, and what is not accepted is
 * refused, never rounded.
 */

import { errorPredicate, TellyError } from './errors.ts';

/** Milliseconds in each unit; a day is 24 hours and a week 7 days (no calendar, no DST). */
export const DURATION_UNITS = Object.freeze({
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
});
export type DurationUnit = keyof typeof DURATION_UNITS;

/** Longest duration text looked at (surrounding whitespace included). */
export const MAX_DURATION_LENGTH = 32;

const DURATION_RE = /^(\d+)(ms|s|m|h|d|w)?$/;

/** Stable codes of {@link DurationError}; callers branch on these, never on the message. */
export type DurationErrorCode = 'MALFORMED_DURATION' | 'DURATION_TOO_LONG' | 'DURATION_OUT_OF_RANGE';

/** A duration text that is not `<whole number><unit>`, or outside the bounds asked for. */
export class DurationError extends TellyError<DurationErrorCode> {
  /** The text as given (cut to {@link MAX_DURATION_LENGTH} characters). */
  readonly input: string;

  constructor(code: DurationErrorCode, message: string, input: string, options?: ErrorOptions) {
    super(code, message, options);
    this.input = input.slice(0, MAX_DURATION_LENGTH);
  }
}

/** True when `err` is a {@link DurationError} (optionally with the given code). */
export const isDurationError = errorPredicate(DurationError);

/** Inclusive bounds in milliseconds for a parsed duration, and the unit of a bare number. */
export interface DurationOptions {
  /** @default 0 */
  readonly min?: number;
  /** @default Number.MAX_SAFE_INTEGER */
  readonly max?: number;
  /** The unit of a number written without one (`"90"`). @default none: a bare number is malformed */
  readonly bareUnit?: DurationUnit;
}

/**
 * `"90s"` → `90000`: the duration in milliseconds. Surrounding whitespace is ignored.
 * @throws DurationError `MALFORMED_DURATION` for anything but `<digits><unit>` (unit one of
 * {@link DURATION_UNITS}; `<digits>` alone with `options.bareUnit`), `DURATION_TOO_LONG` for text longer than {@link MAX_DURATION_LENGTH},
 * `DURATION_OUT_OF_RANGE` outside `options.min` to `options.max`.
 */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  // Non-strings can arrive from untyped callers (JSON, query strings): malformed, not a crash.
  const input = typeof text === 'string' ? text : String(text);
  if (input.length > MAX_DURATION_LENGTH) {
    throw new DurationError(
      'DURATION_TOO_LONG',
      `duration is ${input.length} characters long, at most ${MAX_DURATION_LENGTH} are allowed`,
      input,
    );
  }
  const match = DURATION_RE.exec(input.trim());
  const unit = (match?.[2] as DurationUnit | undefined) ?? options.bareUnit;
  if (match === null || unit === undefined) {
    throw new DurationError(
      'MALFORMED_DURATION',
      `${JSON.stringify(input)} is not a duration such as "90s", "5m", "1h", "1d" (units: ${Object.keys(DURATION_UNITS).join(', ')})`,
      input,
    );
  }
  const ms = Number(match[1]) * DURATION_UNITS[unit];
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  if (!Number.isSafeInteger(ms) || ms < min || ms > max) {
    throw new DurationError(
      'DURATION_OUT_OF_RANGE',
      `${JSON.stringify(input)} is outside ${min} ms to ${max} ms`,
      input,
    );
  }
  return ms;
}
