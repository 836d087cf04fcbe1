import { isDurationError, parseDuration } from '@telly/schemas';
import type pg from 'pg';

export const AGGREGATES = ['AVG', 'MIN', 'MAX', 'SUM', 'COUNT', 'FIRST', 'LAST'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** Raw points returned by one query at most. @default 10000 */
export const MAX_POINTS = 10_000;
/** Buckets returned by one aggregate query at most. @default 10000 */
export const MAX_BUCKETS = 10_000;

export interface PointRow {
  time: Date;
  thing_id: string;
  channel_id: string;
  subtopic: string;
  name: string;
  unit: string | null;
  value: number | null;
  string_value: string | null;
  bool_value: boolean | null;
  data_value: string | null;
  sum: number | null;
}

export interface TelemetryFilter {
  tenantId: string;
  thingId?: string | undefined;
  channelId?: string | undefined;
  name?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

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

/** The rollup an aggregate query can be answered from, or undefined for raw points. */
export function rollupFor(
  everySeconds: number,
  from?: Date,
  to?: Date,
): 'telemetry_rollup_1h' | 'telemetry_rollup_1m' | undefined {
  const aligned = (size: number) =>
    everySeconds % size === 0 &&
    (from === undefined || from.getTime() % (size * 1000) === 0) &&
    (to === undefined || to.getTime() % (size * 1000) === 0);
  if (aligned(3_600)) return 'telemetry_rollup_1h';
  if (aligned(60)) return 'telemetry_rollup_1m';
  return undefined;
}

function where(filter: TelemetryFilter, timeColumn: string, params: unknown[]): string {
  const parts = ['tenant_id = $1'];
  params.push(filter.tenantId);
  const add = (sql: string, value: unknown) => {
    params.push(value);
    parts.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.thingId) add('thing_id = ?', filter.thingId);
  if (filter.channelId) add('channel_id = ?', filter.channelId);
  if (filter.name) add('name = ?', filter.name);
  if (filter.from) add(`${timeColumn} >= ?`, filter.from);
  if (filter.to) add(`${timeColumn} < ?`, filter.to);
  return parts.join(' AND ');
}

/**
 * Telemetry reads, always within one tenant. Aggregates per `every` bucket are answered from
 * the 1-hour or 1-minute rollup when the bucket size and range allow, from raw points otherwise;
 * both give the same numbers (FIRST/LAST ordered by time, then log position).
 */
export class TelemetryQueries {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Raw points in time order; with `last`, the newest `last` ones (still in time order). */
  async points(
    filter: TelemetryFilter,
    options: { last?: number | undefined; limit?: number | undefined } = {},
  ): Promise<PointRow[]> {
    const params: unknown[] = [];
    const w = where(filter, 'time', params);
    const select = `SELECT time, thing_id, channel_id, subtopic, name, unit, value, string_value, bool_value, data_value, sum
      FROM telemetry WHERE ${w}`;
    if (options.last !== undefined) {
      params.push(Math.min(Math.max(options.last, 0), MAX_POINTS));
      const { rows } = await this.#pool.query<PointRow>(
        `SELECT * FROM (${select} ORDER BY time DESC, seq DESC, idx DESC LIMIT $${params.length}) x ORDER BY time`,
        params,
      );
      return rows;
    }
    params.push(Math.min(Math.max(options.limit ?? MAX_POINTS, 0), MAX_POINTS));
    const { rows } = await this.#pool.query<PointRow>(
      `${select} ORDER BY time, seq, idx LIMIT $${params.length}`,
      params,
    );
    return rows;
  }

  /**
   * Every raw point of the filter in time order, fetched in pages (keyset on time, seq, idx) so an
   * export of any size streams in bounded memory.
   */
  async *streamPoints(filter: TelemetryFilter, pageSize = 5_000): AsyncGenerator<PointRow> {
    let after: { time: Date; seq: string; idx: number } | undefined;
    for (;;) {
      const params: unknown[] = [];
      let w = where(filter, 'time', params);
      if (after) {
        params.push(after.time, after.seq, after.idx);
        w += ` AND (time, seq, idx) > ($${params.length - 2}, $${params.length - 1}, $${params.length})`;
      }
      params.push(pageSize);
      const { rows } = await this.#pool.query<PointRow & { seq: string; idx: number }>(
        `SELECT time, thing_id, channel_id, subtopic, name, unit, value, string_value, bool_value, data_value, sum, seq, idx
         FROM telemetry WHERE ${w} ORDER BY time, seq, idx LIMIT $${params.length}`,
        params,
      );
      for (const { seq: _seq, idx: _idx, ...row } of rows) yield row;
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      after = { time: last.time, seq: last.seq, idx: last.idx };
    }
  }

  /** The latest value of each name of a thing. */
  async latest(tenantId: string, thingId: string): Promise<PointRow[]> {
    const { rows } = await this.#pool.query<PointRow>(
      `SELECT time, thing_id, channel_id, subtopic, name, unit, value, string_value, bool_value, data_value, sum
       FROM telemetry_latest WHERE tenant_id = $1 AND thing_id = $2 ORDER BY name`,
      [tenantId, thingId],
    );
    return rows;
  }

  /**
   * One value per `every` bucket (aligned to the Unix epoch, UTC) and name; `source` says where
   * it came from.
   */
  async aggregate(
    filter: TelemetryFilter,
    aggregate: Aggregate,
    everySeconds: number,
    options: { source?: 'auto' | 'raw' } = {},
  ): Promise<{ rows: PointRow[]; source: 'raw' | 'telemetry_rollup_1m' | 'telemetry_rollup_1h' }> {
    const rollup = options.source === 'raw' ? undefined : rollupFor(everySeconds, filter.from, filter.to);
    const params: unknown[] = [];
    const bucketOf = (column: string) =>
      `to_timestamp(floor(extract(epoch FROM ${column}) / ${everySeconds}) * ${everySeconds})`;
    let sql: string;
    if (rollup) {
      const w = where(filter, 'bucket', params);
      const value: Record<Aggregate, string> = {
        AVG: 'sum(sum) / sum(count)',
        MIN: 'min(min)',
        MAX: 'max(max)',
        SUM: 'sum(sum)',
        COUNT: 'sum(count)::float8',
        FIRST: '(array_agg(first_value ORDER BY first_time, first_order))[1]',
        LAST: '(array_agg(last_value ORDER BY last_time DESC, last_order DESC))[1]',
      };
      sql = `SELECT ${bucketOf('bucket')} AS time, name, ${value[aggregate]} AS value FROM ${rollup}
        WHERE ${w} GROUP BY 1, name ORDER BY 1, name`;
    } else {
      const w = where(filter, 'time', params);
      const value: Record<Aggregate, string> = {
        AVG: 'avg(value)',
        MIN: 'min(value)',
        MAX: 'max(value)',
        SUM: 'sum(value)',
        COUNT: 'count(value)::float8',
        FIRST: '(array_agg(value ORDER BY time, seq, idx))[1]',
        LAST: '(array_agg(value ORDER BY time DESC, seq DESC, idx DESC))[1]',
      };
      sql = `SELECT ${bucketOf('time')} AS time, name, ${value[aggregate]} AS value FROM telemetry
        WHERE ${w} AND value IS NOT NULL GROUP BY 1, name ORDER BY 1, name`;
    }
    params.push(MAX_BUCKETS);
    const { rows } = await this.#pool.query<{ time: Date; name: string; value: number }>(
      `${sql} LIMIT $${params.length}`,
      params,
    );
    return {
      source: rollup ?? 'raw',
      rows: rows.map((r) => ({
        time: r.time,
        thing_id: filter.thingId ?? '',
        channel_id: filter.channelId ?? '',
        subtopic: '',
        name: r.name,
        unit: null,
        value: r.value,
        string_value: null,
        bool_value: null,
        data_value: null,
        sum: null,
      })),
    };
  }
}
