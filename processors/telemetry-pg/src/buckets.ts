import { isDurationError, parseDuration } from '@telly/schemas';

/** A day, in seconds. */
export const DAY_SECONDS = 86_400;
/** A week, in seconds: buckets of whole weeks are ISO weeks, starting on Monday. */
export const WEEK_SECONDS = 7 * DAY_SECONDS;

/** The rollups, finest last, with the bucket size of each in seconds. */
export const ROLLUPS = [
  { table: 'telemetry_rollup_1h', seconds: 3_600 },
  { table: 'telemetry_rollup_1m', seconds: 60 },
] as const;
export type Rollup = (typeof ROLLUPS)[number]['table'];

/**
 * A bucket size, a duration (`parseDuration` of `@telly/schemas`: `"30s"`, `"5m"`, `"1h"`, `"1d"`,
 * `"1w"`) of whole seconds, at least one → seconds; undefined when it is not one.
 */
export function parseEvery(every: string): number | undefined {
  let ms: number;
  try {
    ms = parseDuration(every, { min: 1_000 });
  } catch (err) {
    if (isDurationError(err)) return undefined;
    throw err;
  }
  return ms % 1_000 === 0 ? ms / 1_000 : undefined;
}

/** The rollups an aggregate query could be answered from, coarsest first (none: raw points only). */
export function rollupsFor(everySeconds: number, from?: Date, to?: Date): Rollup[] {
  const aligned = (size: number) =>
    everySeconds % size === 0 &&
    (from === undefined || from.getTime() % (size * 1000) === 0) &&
    (to === undefined || to.getTime() % (size * 1000) === 0);
  return ROLLUPS.filter((r) => aligned(r.seconds)).map((r) => r.table);
}

/** The rollup an aggregate query can be answered from in UTC, or undefined for raw points. */
export function rollupFor(everySeconds: number, from?: Date, to?: Date): Rollup | undefined {
  return rollupsFor(everySeconds, from, to)[0];
}

/**
 * Where buckets start: whole weeks on a Monday (1970-01-05, ISO 8601 weeks), any other size on
 * the Unix epoch. Both are whole hours, so UTC buckets of whole hours are unions of rollup rows.
 */
export function bucketOrigin(everySeconds: number): string {
  return everySeconds % WEEK_SECONDS === 0 ? '1970-01-05 00:00:00' : '1970-01-01 00:00:00';
}

/**
 * SQL of the bucket start of `column` (a timestamptz). `zone` is the SQL of a time-zone name
 * parameter: the buckets are then cut on that zone's wall clock (a local midnight starts a day,
 * whatever the UTC offset that day), else on UTC. `stride` is the SQL of the bucket's interval.
 */
export function bucketSql(column: string, stride: string, everySeconds: number, zone?: string): string {
  const origin = bucketOrigin(everySeconds);
  return zone === undefined
    ? `date_bin(${stride}, ${column}, timestamptz '${origin}+00')`
    : `(date_bin(${stride}, ${column} AT TIME ZONE ${zone}, timestamp '${origin}') AT TIME ZONE ${zone})`;
}
