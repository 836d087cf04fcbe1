import { builder, principalOf } from '../builder.ts';
import type { ChannelRow } from '../services/queries.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';
import { must } from './user.ts';

export const Channel = builder.objectRef<ChannelRow>('Channel');
export const ChannelConnection = connectionType('Channel', Channel);

export const ChannelFilter = builder.inputType('ChannelFilter', {
  fields: (t) => ({
    nameContains: t.string({ description: 'case-insensitive substring of the name' }),
    metadata: t.field({ type: 'JSON', description: 'channels whose metadata contains this object' }),
    thingId: t.id({ description: 'channels this thing is connected to' }),
  }),
});

const ChannelInput = builder.inputType('CreateChannelInput', {
  fields: (t) => ({ name: t.string({ required: true }), metadata: t.field({ type: 'JSON' }) }),
});
const UpdateChannelInput = builder.inputType('UpdateChannelInput', {
  fields: (t) => ({ name: t.string(), metadata: t.field({ type: 'JSON' }) }),
});

builder.queryFields((t) => ({
  channel: t.field({
    type: Channel,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.queries.channel(principalOf(ctx).tenantId, args.id),
  }),
  channels: t.field({
    type: ChannelConnection,
    authScopes: { viewer: true },
    complexity: pageComplexity,
    args: { first: t.arg.int(), after: t.arg.string(), filter: t.arg({ type: ChannelFilter }) },
    resolve: async (_root, args, ctx) =>
      toConnection(
        await ctx.services.queries.channels(principalOf(ctx).tenantId, args, {
          nameContains: args.filter?.nameContains,
          metadata: args.filter?.metadata as Record<string, unknown> | undefined,
          thingId: args.filter?.thingId ?? undefined,
        }),
      ),
  }),
}));

builder.mutationFields((t) => ({
  createChannel: t.field({
    type: Channel,
    authScopes: { operator: true },
    args: { input: t.arg({ type: ChannelInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const p = principalOf(ctx);
      const id = await ctx.services.registry.createChannel(p, input);
      return must(await ctx.services.queries.channel(p.tenantId, id), 'channel', id);
    },
  }),
  updateChannel: t.field({
    type: Channel,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateChannelInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      const id = args.id;
      await ctx.services.registry.updateChannel(p, id, args.input);
      return must(await ctx.services.queries.channel(p.tenantId, id), 'channel', id);
    },
  }),
  deleteChannel: t.boolean({
    authScopes: { operator: true },
    description: 'Deletes the channel and disconnects every thing from it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.deleteChannel(principalOf(ctx), args.id);
      return true;
    },
  }),
}));
