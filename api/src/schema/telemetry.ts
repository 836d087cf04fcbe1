import { AGGREGATES, MAX_POINTS, type PointRow, parseEvery } from '@telly/telemetry-pg';
import { builder, principalOf } from '../builder.ts';
import { invalid } from '../errors.ts';
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

/** What one `telemetry` query costs beside its selection (see `complexity` in builder.ts). */
const TELEMETRY_QUERY_COST = 100;

export const AggregateEnum = builder.enumType('Aggregate', { values: AGGREGATES });

builder.queryFields((t) => ({
  telemetry: t.field({
    type: [TelemetryPoint],
    authScopes: { viewer: true },
    // a time-range scan of up to MAX_POINTS rows: dearer than a field, whatever it selects
    complexity: { field: TELEMETRY_QUERY_COST, multiplier: 10 },
    description:
      'Points of a thing or a channel (optionally one name) in [from, to): raw in time order, the newest `last`, or one `aggregate` per `every` bucket (answered from the 1m/1h rollups when aligned).',
    args: {
      thingId: t.arg.id(),
      channelId: t.arg.id(),
      name: t.arg.string(),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      last: t.arg.int(),
      every: t.arg.string({ description: 'bucket size: "30s", "1m", "1h", "1d"' }),
      aggregate: t.arg({ type: AggregateEnum }),
      limit: t.arg.int({
        description: `raw points at most (default and maximum ${MAX_POINTS}); page by moving from`,
      }),
    },
    resolve: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      const filter = ctx.services.telemetry.filter(p, args);
      if (!filter) return [];
      if (args.aggregate || args.every) {
        const every = args.every ? parseEvery(args.every) : undefined;
        if (args.every && every === undefined)
          throw invalid('every', 'must be a duration such as "30s", "1m", "1h", "1d"');
        const span = (filter.to?.getTime() ?? Date.now()) - (filter.from?.getTime() ?? 0);
        return (
          await ctx.services.telemetry.queries.aggregate(
            filter,
            args.aggregate ?? 'AVG',
            every ?? Math.max(1, Math.ceil(span / 1000)),
          )
        ).rows;
      }
      return ctx.services.telemetry.queries.points(filter, {
        last: args.last ?? undefined,
        limit: args.limit ?? undefined,
      });
    },
  }),
  latest: t.field({
    type: [TelemetryPoint],
    authScopes: { viewer: true },
    description: 'The latest value of each name of a thing.',
    args: { thingId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      const filter = ctx.services.telemetry.filter(p, { thingId: args.thingId });
      return filter?.thingId ? ctx.services.telemetry.queries.latest(p.tenantId, filter.thingId) : [];
    },
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
