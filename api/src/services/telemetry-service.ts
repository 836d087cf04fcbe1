import {
  AGGREGATES,
  type Aggregate,
  type AggregateOptions,
  DAY_SECONDS,
  type PointRow,
  parseEvery,
  type Series,
  type TelemetryFilter,
  TelemetryQueries,
} from '@telly/telemetry-pg';
import type pg from 'pg';
import type { Principal } from '../auth/principal.ts';
import { invalid } from '../errors.ts';

/** The arguments of a telemetry read, as the `telemetry` query and the CSV export take them. */
export interface TelemetryArgs {
  thingId?: string | number | null | undefined;
  channelId?: string | number | null | undefined;
  name?: string | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
  last?: number | null | undefined;
  limit?: number | null | undefined;
  every?: string | null | undefined;
  aggregate?: Aggregate | null | undefined;
  timeZone?: string | null | undefined;
}

/** A checked telemetry read: raw points, or one aggregate per bucket and name. */
export type TelemetryRead =
  | { filter: TelemetryFilter; points: { last?: number | undefined; limit?: number | undefined } }
  | {
      filter: TelemetryFilter;
      buckets: { aggregate: Aggregate; everySeconds: number; options: AggregateOptions };
    };

/** Longest time-zone name accepted (the longest IANA name has 30 characters). */
const MAX_TIME_ZONE_LENGTH = 64;
/** An IANA zone name: letters first, so that no offset (`+01:00`, read the POSIX way by Postgres) passes. */
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** The IANA time zone `name` names (as Intl resolves it), or undefined. */
export function ianaTimeZone(name: string): string | undefined {
  if (name.length > MAX_TIME_ZONE_LENGTH || !TIME_ZONE_NAME.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * Telemetry reads for the API: the caller's tenant always bounds the query. An id that names
 * nothing (unknown, another tenant's, or malformed: the API reads those as the nil id) matches
 * no point, so such a read answers an empty list.
 */
export class TelemetryService {
  readonly queries: TelemetryQueries;

  constructor(pool: pg.Pool) {
    this.queries = new TelemetryQueries(pool);
  }

  /** The points of a request. @throws ApiError VALIDATION_FAILED naming the argument to fix */
  async query(p: Principal, args: TelemetryArgs): Promise<PointRow[]> {
    const read = this.read(p, args);
    if ('buckets' in read) {
      const { aggregate, everySeconds, options } = read.buckets;
      return (await this.queries.aggregate(read.filter, aggregate, everySeconds, options)).rows;
    }
    return this.queries.points(read.filter, read.points);
  }

  /** The numeric values of a request, one series per name. @throws ApiError VALIDATION_FAILED naming the argument to fix */
  async series(p: Principal, args: TelemetryArgs): Promise<Series[]> {
    const read = this.read(p, args);
    if ('buckets' in read) {
      const { aggregate, everySeconds, options } = read.buckets;
      return (await this.queries.aggregateSeries(read.filter, aggregate, everySeconds, options)).series;
    }
    return this.queries.pointSeries(read.filter, read.points);
  }

  /** The points of a read, raw ones fetched in pages so that any number streams in bounded memory. */
  async stream(read: TelemetryRead): Promise<AsyncIterable<PointRow> | Iterable<PointRow>> {
    if ('buckets' in read) {
      const { aggregate, everySeconds, options } = read.buckets;
      return (await this.queries.aggregate(read.filter, aggregate, everySeconds, options)).rows;
    }
    return this.queries.streamPoints(read.filter);
  }

  /** The request checked. @throws ApiError VALIDATION_FAILED naming the argument to fix */
  read(p: Principal, args: TelemetryArgs): TelemetryRead {
    const filter = this.#filter(p, args);
    const last = args.last ?? undefined;
    const limit = args.limit ?? undefined;
    if (last !== undefined && limit !== undefined) throw invalid('limit', 'give last or limit, not both');
    if (args.every == null) {
      if (args.aggregate != null)
        throw invalid('every', 'is needed with aggregate: the bucket size, such as "1h" or "1d"');
      if (args.timeZone != null)
        throw invalid(
          'timeZone',
          'applies to day and week buckets: give every ("1d", "1w") and aggregate too',
        );
      return { filter, points: { last, limit } };
    }
    const everySeconds = parseEvery(args.every);
    if (everySeconds === undefined)
      throw invalid('every', 'must be a duration such as "30s", "1m", "1h", "1d", "1w"');
    if (args.aggregate == null)
      throw invalid('aggregate', `is needed with every: one of ${AGGREGATES.join(', ')}`);
    let timeZone: string | undefined;
    if (args.timeZone != null) {
      timeZone = ianaTimeZone(args.timeZone);
      if (timeZone === undefined)
        throw invalid('timeZone', 'must be an IANA time zone name, such as "Europe/Berlin" or "UTC"');
      if (everySeconds % DAY_SECONDS !== 0)
        throw invalid(
          'timeZone',
          `applies to buckets of whole days ("1d", "1w"), not every: "${args.every}"`,
        );
    }
    return {
      filter,
      buckets: { aggregate: args.aggregate, everySeconds, options: { last, limit, timeZone } },
    };
  }

  /** The filter of a request. @throws ApiError VALIDATION_FAILED naming the argument to fix */
  #filter(p: Principal, args: TelemetryArgs): TelemetryFilter {
    const thingId = args.thingId == null ? undefined : String(args.thingId);
    const channelId = args.channelId == null ? undefined : String(args.channelId);
    if (thingId === undefined && channelId === undefined)
      throw invalid('thingId', 'give a thingId or a channelId');
    if (args.from && args.to && args.from >= args.to) throw invalid('to', 'must be after from');
    return {
      tenantId: p.tenantId,
      thingId,
      channelId,
      name: args.name ?? undefined,
      from: args.from ?? undefined,
      to: args.to ?? undefined,
    };
  }
}
