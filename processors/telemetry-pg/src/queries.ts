import type pg from 'pg';
import { bucketSql, ROLLUPS, type Rollup, rollupsFor } from './buckets.ts';

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

/** How a raw read bounds its points. */
export interface PointOptions {
  /** Only the newest `last` points, still in time order (at most MAX_POINTS). */
  last?: number | undefined;
  /** Only the first `limit` points. @default MAX_POINTS */
  limit?: number | undefined;
}

/** How an aggregate query cuts and bounds its buckets. */
export interface AggregateOptions {
  /** `raw` computes from raw points even where a rollup could answer (tests, benchmarks). @default 'auto' */
  source?: 'auto' | 'raw' | undefined;
  /** Only the newest `last` buckets (each with every name it has), still in time order. */
  last?: number | undefined;
  /** Only the first `limit` buckets (each with every name it has); `last` wins over it. */
  limit?: number | undefined;
  /**
   * An IANA time zone (`Europe/Berlin`) whose wall clock cuts the buckets: a day bucket starts
   * at local midnight (23 or 25 hours long on a DST change). Valid in Postgres; the caller
   * checks the name. @default UTC
   */
  timeZone?: string | undefined;
}

/** The value of each aggregate over raw points. */
const RAW_VALUE: Record<Aggregate, string> = {
  AVG: 'avg(value)',
  MIN: 'min(value)',
  MAX: 'max(value)',
  SUM: 'sum(value)',
  COUNT: 'count(value)::float8',
  FIRST: '(array_agg(value ORDER BY time, seq, idx))[1]',
  LAST: '(array_agg(value ORDER BY time DESC, seq DESC, idx DESC))[1]',
};

/** The value of each aggregate over rollup rows: the same numbers as {@link RAW_VALUE}. */
const ROLLUP_VALUE: Record<Aggregate, string> = {
  // counts summed as float8 (exact below 2^53), not as numeric: several times faster
  AVG: 'sum(sum) / sum(count::float8)',
  MIN: 'min(min)',
  MAX: 'max(max)',
  SUM: 'sum(sum)',
  COUNT: 'sum(count::float8)',
  FIRST: '(array_agg(first_value ORDER BY first_time, first_order))[1]',
  LAST: '(array_agg(last_value ORDER BY last_time DESC, last_order DESC))[1]',
};

/**
 * The numeric values of one name in time order, as two columns of one length: the compact shape
 * of a chart's data, without an object (or a date) per value.
 */
export interface Series {
  name: string;
  /** Bucket starts (or point times) in milliseconds since the Unix epoch, ascending. */
  times: number[];
  values: number[];
}

/** How a read returns its times: as dates (points) or as epoch milliseconds (series). */
type TimeAs = 'date' | 'epochMs';
type TimeOf<T extends TimeAs> = T extends 'date' ? Date : number;
/** The select expression of each time representation, from a timestamptz `column`. */
const timeSelect = (column: string, as: TimeAs) =>
  // date_part is float8 (extract is numeric, several times slower): the exact seconds since the
  // epoch divided by 10^6, so rounding to whole microseconds restores them and the last division
  // gives the float nearest to the exact milliseconds
  as === 'date' ? column : `round(date_part('epoch', ${column}) * 1000000) / 1000`;

/**
 * Buckets as read, in time order: rows of (start, name, value), or of (start, value) when the
 * filter names the one name — no column nor copy per row for what every row would repeat.
 */
type Buckets<T> =
  | { name: undefined; rows: [time: T, name: string, value: number][] }
  | { name: string; rows: [time: T, value: number][] };

const bucketRow = (filter: TelemetryFilter, time: Date, name: string, value: number): PointRow => ({
  time,
  thing_id: filter.thingId ?? '',
  channel_id: filter.channelId ?? '',
  subtopic: '',
  name,
  unit: null,
  value,
  string_value: null,
  bool_value: null,
  data_value: null,
  sum: null,
});

/** Rows of (epoch ms, name, value) in time order as one series per name, by name. */
function seriesOf(rows: Iterable<[number, string, number, ...unknown[]]>): Series[] {
  const byName = new Map<string, Series>();
  for (const [time, name, value] of rows) {
    let s = byName.get(name);
    if (s === undefined) {
      s = { name, times: [], values: [] };
      byName.set(name, s);
    }
    s.times.push(time);
    s.values.push(value);
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
  async points(filter: TelemetryFilter, options: PointOptions = {}): Promise<PointRow[]> {
    return this.#raw<PointRow>(filter, options, {
      columns:
        'time, thing_id, channel_id, subtopic, name, unit, value, string_value, bool_value, data_value, sum',
    });
  }

  /**
   * The numeric raw points of {@link points} as one series per name: `last` and `limit` count
   * numeric points only.
   */
  async pointSeries(filter: TelemetryFilter, options: PointOptions = {}): Promise<Series[]> {
    const rows = await this.#raw<[number, string, number]>(filter, options, {
      columns: `${timeSelect('time', 'epochMs')}, name, value`,
      condition: 'value IS NOT NULL',
      rowMode: 'array',
    });
    return seriesOf(rows);
  }

  /**
   * Raw rows of `columns` in time order (then log order), at most MAX_POINTS: the first `limit`, or
   * the newest `last`.
   */
  async #raw<T>(
    filter: TelemetryFilter,
    { last, limit }: PointOptions,
    { columns, condition, rowMode }: { columns: string; condition?: string; rowMode?: 'array' },
  ): Promise<T[]> {
    const values: unknown[] = [];
    let w = where(filter, 'time', values);
    if (condition !== undefined) w += ` AND ${condition}`;
    const newest = last !== undefined;
    values.push(Math.min(Math.max((newest ? last : limit) ?? MAX_POINTS, 0), MAX_POINTS));
    const order = newest ? 'time DESC, seq DESC, idx DESC' : 'time, seq, idx';
    const text = `SELECT ${columns} FROM telemetry WHERE ${w} ORDER BY ${order} LIMIT $${values.length}`;
    const { rows } =
      rowMode === 'array'
        ? await this.#pool.query({ text, values, rowMode })
        : await this.#pool.query({ text, values });
    return (newest ? rows.reverse() : rows) as T[];
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
   * One value per `every` bucket and name, in time order (see {@link AggregateOptions} and
   * `bucketSql`); `source` says where it came from. In a time zone, a rollup answers only when each
   * of its rows lies within one bucket (checked by the query itself: a zone whose offset is whole
   * hours is answered from the hourly rollup, +05:30 from the minute rollup, a local mean time of
   * long ago from raw points), so every source gives the same numbers.
   */
  async aggregate(
    filter: TelemetryFilter,
    aggregate: Aggregate,
    everySeconds: number,
    options: AggregateOptions = {},
  ): Promise<{ rows: PointRow[]; source: 'raw' | Rollup }> {
    const { buckets, source } = await this.#aggregate('date', filter, aggregate, everySeconds, options);
    const rows =
      buckets.name === undefined
        ? buckets.rows.map(([time, name, value]) => bucketRow(filter, time, name, value))
        : buckets.rows.map(([time, value]) => bucketRow(filter, time, buckets.name, value));
    return { source, rows };
  }

  /** The buckets of {@link aggregate} as one series per name, by name. */
  async aggregateSeries(
    filter: TelemetryFilter,
    aggregate: Aggregate,
    everySeconds: number,
    options: AggregateOptions = {},
  ): Promise<{ series: Series[]; source: 'raw' | Rollup }> {
    const { buckets, source } = await this.#aggregate('epochMs', filter, aggregate, everySeconds, options);
    if (buckets.name === undefined) return { source, series: seriesOf(buckets.rows) };
    const { name, rows } = buckets;
    const series =
      rows.length === 0 ? [] : [{ name, times: rows.map((r) => r[0]), values: rows.map((r) => r[1]) }];
    return { source, series };
  }

  async #aggregate<T extends TimeAs>(
    timeAs: T,
    filter: TelemetryFilter,
    aggregate: Aggregate,
    everySeconds: number,
    options: AggregateOptions,
  ): Promise<{ buckets: Buckets<TimeOf<T>>; source: 'raw' | Rollup }> {
    const rollups = options.source === 'raw' ? [] : rollupsFor(everySeconds, filter.from, filter.to);
    // in UTC a rollup aligned with the buckets always answers: the coarsest one is enough
    for (const rollup of options.timeZone === undefined ? rollups.slice(0, 1) : rollups) {
      const { buckets, exact } = await this.#buckets(
        timeAs,
        rollup,
        filter,
        aggregate,
        everySeconds,
        options,
      );
      if (exact) return { source: rollup, buckets };
    }
    const { buckets } = await this.#buckets(timeAs, 'raw', filter, aggregate, everySeconds, options);
    return { source: 'raw', buckets };
  }

  /**
   * The buckets from `source`, and whether each rollup row used lies within one bucket (always in
   * UTC). Only the columns that vary are read: the name when the filter has none, the check in a
   * time zone — a column fewer of 8,760 rows is a millisecond.
   */
  async #buckets<T extends TimeAs>(
    timeAs: T,
    source: 'raw' | Rollup,
    filter: TelemetryFilter,
    aggregate: Aggregate,
    everySeconds: number,
    { last, limit, timeZone }: AggregateOptions,
  ): Promise<{ buckets: Buckets<TimeOf<T>>; exact: boolean }> {
    const params: unknown[] = [];
    const w = where(filter, source === 'raw' ? 'time' : 'bucket', params);
    let zone: string | undefined;
    if (timeZone !== undefined) {
      params.push(timeZone);
      zone = `$${params.length}::text`;
    }
    // the bucket size is a parameter only if the statement uses it: Postgres refuses an unused one (no type)
    let stride: string | undefined;
    const bucketOf = (column: string) => {
      if (stride === undefined) {
        params.push(`${everySeconds} seconds`);
        stride = `$${params.length}::interval`;
      }
      return bucketSql(column, stride, everySeconds, zone);
    };
    let grouped: string;
    if (source === 'raw') {
      grouped = `SELECT ${bucketOf('time')} AS time, name, ${RAW_VALUE[aggregate]} AS value, true AS exact
        FROM telemetry WHERE ${w} AND value IS NOT NULL GROUP BY 1, name`;
    } else {
      // a rollup row's last instant is in the same bucket as its first: the row is all in one bucket
      const span = ROLLUPS.find((r) => r.table === source)?.seconds;
      const exact =
        zone === undefined
          ? 'true'
          : `bool_and(${bucketOf('bucket')} = ${bucketOf(`(bucket + interval '${span} seconds' - interval '1 microsecond')`)})`;
      // in UTC, buckets of the rollup's own size are its rows' buckets
      const time = zone === undefined && span === everySeconds ? 'bucket' : bucketOf('bucket');
      grouped = `SELECT ${time} AS time, name, ${ROLLUP_VALUE[aggregate]} AS value, ${exact} AS exact
        FROM ${source} WHERE ${w} GROUP BY 1, name`;
    }
    // the filter's one name (where() reads an empty one as none), or a name column
    const one = filter.name || undefined;
    const named = one === undefined;
    const checked = zone !== undefined;
    const columns = [
      timeSelect('time', timeAs),
      ...(named ? ['name'] : []),
      'value',
      ...(checked ? ['exact'] : []),
    ].join(', ');
    let sql = `SELECT ${columns} FROM (${grouped}) b`;
    const bounded = (n: number) => Math.min(Math.max(n, 0), MAX_BUCKETS);
    if (last !== undefined || limit !== undefined) {
      // the newest (or first) n bucket times, each with every name it has
      params.push(bounded(last ?? limit ?? 0));
      const order = last !== undefined ? 'DESC' : 'ASC';
      sql = `SELECT ${columns} FROM (
          SELECT *, dense_rank() OVER (ORDER BY time ${order}) AS rank FROM (${grouped}) b
        ) ranked WHERE rank <= $${params.length}`;
    }
    params.push(MAX_BUCKETS);
    // the newest ones are kept when the names make more rows than MAX_BUCKETS
    const by = named ? ['time', 'name'] : ['time'];
    const order = by.map((c) => (last !== undefined ? `${c} DESC` : c)).join(', ');
    const { rows } = await this.#pool.query<unknown[]>({
      text: `${sql} ORDER BY ${order} LIMIT $${params.length}`,
      values: params,
      rowMode: 'array',
    });
    if (last !== undefined) rows.reverse();
    const exact = !checked || rows.every((r) => r[r.length - 1] === true);
    const buckets = { name: one, rows } as Buckets<TimeOf<T>>;
    return { buckets, exact };
  }
}
