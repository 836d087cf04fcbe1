import { quote, SenmlError } from './errors.ts';
import { isValidSenmlName, NAME_RULE } from './names.ts';
import { parseLimits } from './parse.ts';
import { RELATIVE_TIME_LIMIT } from './resolve.ts';
import type { ParseOptions, ResolvedSenmlRecord, ResolveOptions } from './types.ts';

/** Default for {@link PlainJsonOptions.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 8;

/** Options of {@link fromPlainJson}. */
export interface PlainJsonOptions extends ResolveOptions, Pick<ParseOptions, 'maxRecords'> {
  /**
   * Deepest accepted nesting of objects (the top-level object is depth 1).
   * @default 8
   */
  maxDepth?: number;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/i;

/**
 * Converts a plain JSON object — a device sending "a value or a dict of values" instead of
 * SenML — to resolved SenML records. The rules:
 *
 * - The body must be a JSON object (`SENML_NOT_OBJECT` otherwise; a JSON array is SenML and
 *   is handled by `decodeMessage`, not here), or ThingsBoard's device telemetry: an object of
 *   exactly `ts` (milliseconds since the epoch, after 1978-07-04) and `values` (an object of
 *   values, read by the rules below), or a non-empty array of such objects, records in order.
 * - Every key becomes one record, in the object's key order (as JavaScript enumerates it, so
 *   integer-like keys come first): a number gives `v`, a string `vs`, a boolean `vb`.
 *   `{"temperature": 21.5, "humidity": 40}` → records `temperature` (v 21.5), `humidity` (v 40).
 * - Nested objects flatten, keys joined with `.` (`/` would split URI paths, RFC 8428 §4.5.1):
 *   `{"env": {"temp": 21}}` → record `env.temp`. Nesting deeper than `maxDepth` is rejected.
 * - Arrays and `null` are rejected (`SENML_BAD_TYPE`) naming the key path, as are numbers
 *   outside the double range (`SENML_NOT_FINITE`).
 * - Reserved top-level keys, which are not values:
 *   - `"bn"`: a string prepended as-is to every name (include your own separator: `"dev1:"`);
 *   - `"t"` or `"time"` (not both): the time of every record, either a number of seconds with
 *     SenML semantics (≥ 2**28 absolute since the epoch, below relative to `now`) or an
 *     ISO-8601 / RFC 3339 date-time with a zone (`2024-05-01T12:00:00.5Z`, `…+02:00`). Without
 *     one, records are timed `now`. Inside nested objects these keys are ordinary values.
 * - Each name (`bn` + key path) must satisfy RFC 8428 §4.5.1 (`SENML_INVALID_NAME`, naming the
 *   key); an object yielding no value at all is `SENML_EMPTY`. There are no units.
 */
export function fromPlainJson(value: unknown, opts: PlainJsonOptions): ResolvedSenmlRecord[] {
  const { now, maxDepth = DEFAULT_MAX_DEPTH } = opts;
  const { maxRecords } = parseLimits({ maxRecords: opts.maxRecords });
  if (!Number.isFinite(now)) throw new RangeError(`now must be a finite number of seconds, got ${now}`);
  const records: ResolvedSenmlRecord[] = [];
  const limits = { maxDepth, maxRecords };
  if (isThingsBoardTelemetry(value)) {
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => {
      const path = Array.isArray(value) ? `${i}.` : '';
      collect(item.values, '', thingsBoardTime(item.ts, `${path}ts`), records, limits, `${path}values`);
    });
  } else {
    if (!isObject(value)) {
      throw new SenmlError('SENML_NOT_OBJECT', 'a plain JSON message must be an object of values');
    }
    const { bn = '', t, time, ...values } = value;
    if (typeof bn !== 'string') {
      throw new SenmlError('SENML_BAD_TYPE', '"bn" must be a string prefix for all names', { field: 'bn' });
    }
    if (t !== undefined && time !== undefined) {
      throw new SenmlError('SENML_BAD_TIME', 'give the time as "t" or as "time", not both', {
        field: 'time',
      });
    }
    collect(values, bn, resolveTime(t ?? time, t === undefined ? 'time' : 't', now), records, limits, '');
  }
  if (records.length === 0) throw new SenmlError('SENML_EMPTY', 'the object holds no values');
  return records;
}

/**
 * ThingsBoard's device telemetry (`{"ts": <ms>, "values": {…}}`, or an array of them): an object
 * with exactly the keys `ts` and `values`, `values` an object. Such an array is not SenML.
 */
export function isThingsBoardTelemetry(
  value: unknown,
): value is ThingsBoardTelemetry | ThingsBoardTelemetry[] {
  const one = (item: unknown): item is ThingsBoardTelemetry => {
    if (!isObject(item) || !isObject(item.values) || !('ts' in item)) return false;
    return Object.keys(item).length === 2;
  };
  return Array.isArray(value) ? value.length > 0 && value.every(one) : one(value);
}

interface ThingsBoardTelemetry {
  ts: unknown;
  values: Record<string, unknown>;
}

/** One record per value of `object`, nested keys joined with `.`, names prefixed with `bn`. */
function collect(
  object: Record<string, unknown>,
  bn: string,
  at: number,
  records: ResolvedSenmlRecord[],
  limits: { maxDepth: number; maxRecords: number },
  /** Where `object` is in the message, for error messages ('' at the top). */
  where: string,
): void {
  const walk = (fields: Record<string, unknown>, prefix: string, depth: number): void => {
    if (depth > limits.maxDepth) {
      const key = where === '' ? prefix : `${where}.${prefix}`;
      throw new SenmlError(
        'SENML_TOO_LARGE',
        `key ${quote(key)} nests deeper than ${limits.maxDepth} objects`,
        { field: key },
      );
    }
    for (const [key, field] of Object.entries(fields)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (isObject(field)) {
        walk(field, path, depth + 1);
        continue;
      }
      const record = toRecord(bn + path, where === '' ? path : `${where}.${path}`, field, at);
      if (records.length === limits.maxRecords) {
        throw new SenmlError('SENML_TOO_LARGE', `message has more than ${limits.maxRecords} values`, {
          field: path,
        });
      }
      records.push(record);
    }
  };
  walk(object, '', 1);
}

function toRecord(n: string, path: string, value: unknown, t: number): ResolvedSenmlRecord {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new SenmlError('SENML_NOT_FINITE', `key ${quote(path)} must be a finite number`, { field: path });
  }
  if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new SenmlError(
      'SENML_BAD_TYPE',
      `key ${quote(path)} is ${what}; plain JSON values must be numbers, strings, booleans or objects of them (send SenML for anything else)`,
      { field: path },
    );
  }
  if (!isValidSenmlName(n)) {
    throw new SenmlError('SENML_INVALID_NAME', `key ${quote(path)}: name ${quote(n)} ${NAME_RULE}`, {
      field: path,
    });
  }
  if (typeof value === 'number') return { n, t, v: value + 0 };
  if (typeof value === 'string') {
    if (!value.isWellFormed()) {
      throw new SenmlError('SENML_BAD_TYPE', `key ${quote(path)} must be well-formed Unicode`, {
        field: path,
      });
    }
    return { n, t, vs: value };
  }
  return { n, t, vb: value };
}

/** ThingsBoard's `ts`: milliseconds since the epoch, as JavaScript's `Date.now()`. */
function thingsBoardTime(ts: unknown, field: string): number {
  if (typeof ts === 'number' && Number.isFinite(ts) && ts >= RELATIVE_TIME_LIMIT * 1000) return ts / 1000;
  const hint =
    typeof ts === 'number' && ts >= RELATIVE_TIME_LIMIT && ts < RELATIVE_TIME_LIMIT * 1000
      ? ': was this seconds? "ts" is in milliseconds'
      : '';
  throw new SenmlError(
    'SENML_BAD_TIME',
    `"${field}" must be milliseconds since the epoch after 1978-07-04 (ThingsBoard's "ts"), got ${typeof ts === 'number' ? String(ts) : ts === null ? 'null' : typeof ts}${hint}`,
    { field },
  );
}

function resolveTime(value: unknown, field: string, now: number): number {
  if (value === undefined) return now;
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value < RELATIVE_TIME_LIMIT ? now + value : value;
  }
  if (typeof value === 'string') {
    const match = ISO_8601.exec(value);
    const ms = match ? Date.parse(value) : Number.NaN;
    const [, year, month, day] = match ?? [];
    // Date.parse rolls 2024-02-30 over to March; a date that does not exist is an error here.
    const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
    if (Number.isFinite(ms) && date.getUTCDate() === Number(day) && ms / 1000 >= RELATIVE_TIME_LIMIT) {
      return ms / 1000;
    }
  }
  throw new SenmlError(
    'SENML_BAD_TIME',
    `"${field}" must be seconds since the epoch or an ISO-8601 date-time with a zone after 1978-07-04, got ${typeof value === 'string' ? quote(value) : typeof value === 'number' || value === null ? String(value) : typeof value}`,
    { field },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
