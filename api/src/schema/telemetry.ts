import { AGGREGATES, MAX_POINTS, type PointRow, type Series } from '@telly/telemetry-pg';
import { builder, principalOf } from '../builder.ts';
import { FeedEnd } from '../services/telemetry-feed.ts';

export const TelemetryPoint = builder.objectRef<PointRow>('TelemetryPoint').implement({
  description: 'One SenML record as stored (or one aggregate per bucket, with the bucket start as time).',
  fields: (t) => ({
    time: t.field({ type: 'DateTime', resolve: (p) => p.time }),
    thingId: t.exposeID('thing_id'),
    channelId: t.exposeID('channel_id'),
    subtopic: t.exposeString('subtopic'),
    name: t.exposeString('name'),
    unit: t.exposeString('unit', { nullable: true }),
    value: t.exposeFloat('value', { nullable: true }),
    stringValue: t.exposeString('string_value', { nullable: true }),
    boolValue: t.exposeBoolean('bool_value', { nullable: true }),
    dataValue: t.exposeString('data_value', { nullable: true }),
    sum: t.exposeFloat('sum', { nullable: true }),
  }),
});

export const TelemetrySeries = builder.objectRef<Series>('TelemetrySeries').implement({
  description: 'The numeric values of one name in time order, as two columns of the same length.',
  fields: (t) => ({
    name: t.exposeString('name'),
    times: t.exposeFloatList('times', {
      description:
        'bucket starts (or point times) in milliseconds since the Unix epoch, ascending: `new Date(ms)` in JavaScript',
    }),
    values: t.exposeFloatList('values', { description: 'the value at each time' }),
  }),
});

/** What one `telemetry` query costs beside its selection (see `complexity` in builder.ts). */
const TELEMETRY_QUERY_COST = 100;

export const AggregateEnum = builder.enumType('Aggregate', { values: AGGREGATES });

/** The arguments of a telemetry read: `telemetry` and `telemetrySeries` take the same. */
const readArgs = builder.args((t) => ({
  thingId: t.id(),
  channelId: t.id(),
  name: t.string(),
  from: t.field({ type: 'DateTime', description: 'inclusive, e.g. "2026-01-01T00:00:00Z"' }),
  to: t.field({ type: 'DateTime', description: 'exclusive, e.g. "2026-01-02T00:00:00Z"' }),
  last: t.int({
    description: `the newest \`last\` points (at most ${MAX_POINTS}), still in time order; with \`every\`, the newest \`last\` buckets (each with all its names)`,
  }),
  limit: t.int({
    description: `the first \`limit\` points (default and maximum ${MAX_POINTS}): page by moving \`from\`; with \`every\`, the first \`limit\` buckets. Not with \`last\`.`,
  }),
  every: t.string({
    description:
      'bucket size: "30s", "1m", "1h", "1d", "1w", …; needs `aggregate`. Buckets start on the Unix epoch, buckets of whole weeks on a Monday (ISO weeks), in UTC or in `timeZone`.',
  }),
  aggregate: t.field({ type: AggregateEnum, description: 'the value of each bucket; needs `every`' }),
  timeZone: t.string({
    description:
      'an IANA time zone ("Europe/Berlin") whose local midnight starts day and week buckets (`every` of whole days). Default UTC.',
  }),
}));

builder.queryFields((t) => ({
  telemetry: t.field({
    type: [TelemetryPoint],
    authScopes: { viewer: true },
    // a time-range scan of up to MAX_POINTS rows: dearer than a field, whatever it selects
    complexity: { field: TELEMETRY_QUERY_COST, multiplier: 10 },
    description:
      'Points of a thing or a channel (optionally one name) in [from, to): raw in time order (the first `limit`, or the newest `last`), or with `every` and `aggregate` one value per bucket and name (answered from the 1m/1h rollups where they can). A malformed or unknown id answers an empty list.',
    args: readArgs,
    resolve: (_root, args, ctx) => ctx.services.telemetry.query(principalOf(ctx), args),
  }),
  telemetrySeries: t.field({
    type: [TelemetrySeries],
    authScopes: { viewer: true },
    complexity: { field: TELEMETRY_QUERY_COST, multiplier: 10 },
    description:
      'The numeric values of `telemetry` (same arguments, same bounds) as one series per name, by name: a column of times and one of values, the compact shape for charts. Raw, `last` and `limit` count numeric points only.',
    args: readArgs,
    resolve: (_root, args, ctx) => ctx.services.telemetry.series(principalOf(ctx), args),
  }),
  latest: t.field({
    type: [TelemetryPoint],
    authScopes: { viewer: true },
    description: 'The latest value of each name of a thing.',
    args: { thingId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.telemetry.queries.latest(principalOf(ctx).tenantId, String(args.thingId)),
  }),
}));

builder.subscriptionFields((t) => ({
  telemetry: t.field({
    type: TelemetryPoint,
    authScopes: { viewer: true },
    description:
      'Each point stored from now on, of a thing, a channel or the whole tenant (optionally one name), in log order: in order per thing, each once. A subscriber that falls far behind ends with SLOW_CONSUMER; an expired token or an ended session ends it with UNAUTHENTICATED / TOKEN_EXPIRED.',
    args: { channelId: t.arg.id(), thingId: t.arg.id(), name: t.arg.string() },
    subscribe: (_root, args, ctx) => {
      const { tenantId } = principalOf(ctx);
      return ctx.services.feed.subscribe(
        {
          tenantId,
          channelId: args.channelId ?? undefined,
          thingId: args.thingId ?? undefined,
          name: args.name ?? undefined,
        },
        ctx.recheck,
        (recheck) => ctx.services.revocations.onTenant(tenantId, recheck),
      );
    },
    resolve: (event) => {
      if (event instanceof FeedEnd) throw event.error;
      return event;
    },
  }),
}));
