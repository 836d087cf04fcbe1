// What the platform accepts into the log: only what every telemetry projection can store. The
// bridges check it before acking a message (with their time window), the projections, replays
// and verifications check it again on every entry they read (without a window: an entry's
// time is judged by what can be stored, not by when it is read).
import { quote, SenmlError } from './errors.ts';
import { senmlTimeToMs } from './resolve.ts';
import type { ResolvedSenmlRecord } from './types.ts';

/**
 * The limits of what Postgres and InfluxDB both store, whatever the settings.
 *
 * - Times: from the epoch (negative years, years after 9999 and anything past JavaScript's
 *   dates are all refused) to 2262-04-11T23:47:16.854Z, where InfluxDB's signed 64-bit
 *   nanosecond timestamps end.
 * - Numbers (`v`, `s`): zero or a magnitude from 1e-150 to 1e150. Rollups add values up and
 *   averages divide the sums: with these bounds no sum of fewer than 1e158 values overflows,
 *   and no average underflows to zero, which Postgres refuses with an error instead of rounding.
 * - Text: no NUL character (Postgres `text` cannot hold one); a unit has no control characters
 *   (it is an InfluxDB tag, where a line break cannot be escaped); lengths in UTF-8 bytes.
 */
export const STORABLE = Object.freeze({
  minTimeMs: 0,
  maxTimeMs: 9_223_372_036_854,
  maxMagnitude: 1e150,
  minMagnitude: 1e-150,
  /** A name is indexed by Postgres, and a B-tree entry holds at most about 2.7 kB. */
  maxNameBytes: 1_024,
  maxUnitBytes: 256,
  /** `vs` and `vd`: InfluxDB's limit for a string field is 64 KiB. */
  maxTextBytes: 65_535,
});

/** Which times a bridge accepts, around the moment it receives a message, and their span. */
export interface AcceptPolicy {
  /**
   * How long before its receipt a record's time may be: backfill of buffered readings.
   * @default Infinity (back to the epoch, {@link STORABLE}.minTimeMs)
   */
  pastMs: number;
  /** How long after its receipt: clocks running ahead. @default 1 day */
  futureMs: number;
  /**
   * Most calendar months (UTC) the times of one message may fall in. Postgres keeps a
   * partition per month, created as points arrive: this bounds what one message can create.
   * @default 2
   */
  maxMonths: number;
}

/** Defaults of {@link AcceptPolicy}. */
export const DEFAULT_ACCEPT_POLICY: Readonly<AcceptPolicy> = Object.freeze({
  pastMs: Number.POSITIVE_INFINITY,
  futureMs: 86_400_000,
  maxMonths: 2,
});

/** The codes of the refusals {@link checkStorable} and {@link checkAccepted} add to SenML's own. */
export const UNSTORABLE_CODES = Object.freeze([
  'SENML_TIME_OUT_OF_RANGE',
  'SENML_TOO_MANY_MONTHS',
  'SENML_VALUE_OUT_OF_RANGE',
  'SENML_UNSTORABLE_TEXT',
] as const);
export type UnstorableCode = (typeof UNSTORABLE_CODES)[number];

/**
 * True when `err` is a SenmlError saying that a record is valid SenML but cannot be stored
 * (optionally with the given code).
 */
export function isUnstorableError<C extends UnstorableCode = UnstorableCode>(
  err: unknown,
  code?: C,
): err is SenmlError & { readonly code: C } {
  return (
    err instanceof SenmlError &&
    (UNSTORABLE_CODES as readonly string[]).includes(err.code) &&
    (code === undefined || err.code === code)
  );
}

/**
 * Throws a {@link SenmlError} naming the record and the rule when a record cannot be stored by
 * every projection ({@link STORABLE}). What the projections check on every entry they read.
 */
export function checkStorable(records: readonly ResolvedSenmlRecord[]): void {
  checkWithin(records, { fromMs: STORABLE.minTimeMs, toMs: STORABLE.maxTimeMs, what: 'storable times' });
}

/**
 * What a bridge checks before acking a message received at `nowMs`: every record storable
 * ({@link checkStorable}), its time inside the policy's window around `nowMs`, and all the
 * times within `maxMonths` calendar months. Throws a {@link SenmlError} naming the record and
 * the rule; a time that would fit the window in another unit says which (`t=1796110000000 is
 * year 58886 …: was this milliseconds?`).
 */
export function checkAccepted(
  records: readonly ResolvedSenmlRecord[],
  nowMs: number,
  policy: AcceptPolicy = DEFAULT_ACCEPT_POLICY,
): void {
  const window = acceptedWindow(nowMs, policy);
  checkWithin(records, { ...window, what: 'the accepted window' });
  const months = new Set<number>();
  records.forEach((record, index) => {
    const date = new Date(senmlTimeToMs(record.t));
    months.add(date.getUTCFullYear() * 12 + date.getUTCMonth());
    if (months.size > policy.maxMonths) {
      throw new SenmlError(
        'SENML_TOO_MANY_MONTHS',
        `t=${record.t} (${date.toISOString().slice(0, 7)}) makes the message span ${months.size} calendar months, more than the ${policy.maxMonths} accepted in one message; send each month's records apart`,
        { index, field: 't' },
      );
    }
  });
}

/** The times accepted at `nowMs` by `policy`, ms since the epoch, both ends included. */
export function acceptedWindow(nowMs: number, policy: AcceptPolicy): { fromMs: number; toMs: number } {
  return {
    fromMs: Math.max(STORABLE.minTimeMs, nowMs - policy.pastMs),
    toMs: Math.min(STORABLE.maxTimeMs, nowMs + policy.futureMs),
  };
}

function checkWithin(
  records: readonly ResolvedSenmlRecord[],
  window: { fromMs: number; toMs: number; what: string },
): void {
  records.forEach((record, index) => {
    checkTime(record.t, index, window);
    checkNumber(record.v, 'v', index);
    checkNumber(record.s, 's', index);
    checkText(record.n, 'n', index, STORABLE.maxNameBytes);
    if (record.u !== undefined) {
      checkText(record.u, 'u', index, STORABLE.maxUnitBytes);
      if (CONTROL.test(record.u)) {
        throw new SenmlError('SENML_UNSTORABLE_TEXT', `unit ${quote(record.u)} holds a control character`, {
          index,
          field: 'u',
        });
      }
    }
    if (record.vs !== undefined) checkText(record.vs, 'vs', index, STORABLE.maxTextBytes);
    if (record.vd !== undefined) checkText(record.vd, 'vd', index, STORABLE.maxTextBytes);
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;
const UTF8 = new TextEncoder();

/** Units a time may have been sent in by mistake, by the factor from seconds. */
const UNIT_MISTAKES: readonly [string, number][] = [
  ['milliseconds', 1e3],
  ['microseconds', 1e6],
  ['nanoseconds', 1e9],
];

function checkTime(t: number, index: number, window: { fromMs: number; toMs: number; what: string }): void {
  const ms = senmlTimeToMs(t);
  if (ms >= window.fromMs && ms <= window.toMs) return;
  const inWindow = (seconds: number) => {
    const m = senmlTimeToMs(seconds);
    return m >= window.fromMs && m <= window.toMs;
  };
  const mistake = ms > window.toMs ? UNIT_MISTAKES.find(([, factor]) => inWindow(t / factor)) : undefined;
  const side = ms > window.toMs ? 'after' : 'before';
  throw new SenmlError(
    'SENML_TIME_OUT_OF_RANGE',
    `t=${t} is ${describeTime(ms)}, ${side} ${window.what} (${iso(window.fromMs)} to ${iso(window.toMs)}; times are seconds since the epoch)${mistake ? `: was this ${mistake[0]}?` : ''}`,
    { index, field: 't' },
  );
}

/** `year 58886` far away, the instant itself where a date can show it. */
function describeTime(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return `year ${Math.floor(1970 + ms / 31_556_952_000)}`;
  const year = date.getUTCFullYear();
  return year < 1 || year > 9999 ? `year ${year}` : date.toISOString();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function checkNumber(value: number | undefined, field: 'v' | 's', index: number): void {
  if (value === undefined || value === 0) return;
  const magnitude = Math.abs(value);
  if (magnitude >= STORABLE.minMagnitude && magnitude <= STORABLE.maxMagnitude) return;
  throw new SenmlError(
    'SENML_VALUE_OUT_OF_RANGE',
    `"${field}" ${value} is out of range: numbers are 0 or of magnitude ${STORABLE.minMagnitude} to ${STORABLE.maxMagnitude}`,
    { index, field },
  );
}

function checkText(text: string, field: string, index: number, maxBytes: number): void {
  if (text.includes('\u0000')) {
    throw new SenmlError('SENML_UNSTORABLE_TEXT', `"${field}" holds a NUL character (U+0000)`, {
      index,
      field,
    });
  }
  // a UTF-16 code unit is at most 3 UTF-8 bytes: most texts are judged without encoding them
  if (text.length * 3 <= maxBytes) return;
  const bytes = UTF8.encode(text).byteLength;
  if (bytes > maxBytes) {
    throw new SenmlError(
      'SENML_UNSTORABLE_TEXT',
      `"${field}" is ${bytes} bytes long, at most ${maxBytes} can be stored`,
      { index, field },
    );
  }
}
