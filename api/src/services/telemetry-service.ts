import { type TelemetryFilter, TelemetryQueries } from '@telly/telemetry-pg';
import type pg from 'pg';
import type { Principal } from '../auth/principal.ts';
import { invalid } from '../errors.ts';
import { isId } from './validate.ts';

export interface TelemetryArgs {
  thingId?: string | number | null | undefined;
  channelId?: string | number | null | undefined;
  name?: string | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
}

/** Telemetry reads for the API: the caller's tenant always bounds the query. */
export class TelemetryService {
  readonly queries: TelemetryQueries;

  constructor(pool: pg.Pool) {
    this.queries = new TelemetryQueries(pool);
  }

  /**
   * The filter for a request, or undefined when it can match nothing (a malformed id): such a
   * query answers an empty list, exactly like another tenant's id.
   */
  filter(p: Principal, args: TelemetryArgs): TelemetryFilter | undefined {
    const thingId = args.thingId == null ? undefined : String(args.thingId);
    const channelId = args.channelId == null ? undefined : String(args.channelId);
    if (thingId === undefined && channelId === undefined)
      throw invalid('thingId', 'give a thingId or a channelId');
    if ((thingId !== undefined && !isId(thingId)) || (channelId !== undefined && !isId(channelId)))
      return undefined;
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
