import { MAX_THING_RATE_BURST, MAX_THING_RATE_PER_SECOND } from '@telly/schemas';
import { builder, principalOf } from '../builder.ts';
import type { BootstrapRow, ThingRow } from '../services/queries.ts';
import { Channel, ChannelConnection } from './channel.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';
import { must } from './user.ts';

export const Thing = builder.objectRef<ThingRow>('Thing');
export const ThingConnection = connectionType('Thing', Thing);

const BootstrapConfig = builder.objectRef<BootstrapRow & { tenant_id: string }>('BootstrapConfig').implement({
  description:
    'What a device fetches from GET /things/bootstrap/{externalId} (its external key is never shown).',
  fields: (t) => ({
    externalId: t.exposeString('external_id'),
    content: t.exposeString('content'),
    updatedAt: t.field({ type: 'DateTime', resolve: (b) => b.updated_at }),
    channels: t.field({
      type: [Channel],
      resolve: async (b, _args, ctx) => {
        const rows = await Promise.all(b.channels.map((id) => ctx.services.queries.channel(b.tenant_id, id)));
        return rows.filter((row) => row !== undefined);
      },
    }),
  }),
});

const RateLimit = builder.objectRef<{ perSecond: number; burst: number }>('RateLimit').implement({
  description: "A thing's own rate limit at the device bridges, replacing the deployment's for it.",
  fields: (t) => ({
    perSecond: t.exposeFloat('perSecond', { description: 'Messages per second sustained.' }),
    burst: t.exposeInt('burst', { description: 'Messages at once above the rate.' }),
  }),
});

Thing.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    metadata: t.field({ type: 'JSON', resolve: (x) => x.metadata }),
    enabled: t.exposeBoolean('enabled'),
    rateLimit: t.field({
      type: RateLimit,
      nullable: true,
      description:
        "The thing's own rate limit (setThingRateLimit); null: the deployment's (TELLY_RATE_PER_SECOND, TELLY_RATE_BURST).",
      resolve: (x) =>
        x.rate_per_second === null || x.rate_burst === null
          ? null
          : { perSecond: x.rate_per_second, burst: x.rate_burst },
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (x) => x.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (x) => x.updated_at }),
    channels: t.field({
      type: ChannelConnection,
      description: 'Channels this thing is connected to.',
      complexity: pageComplexity,
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (x, args, ctx) =>
        toConnection(await ctx.services.queries.channels(x.tenant_id, args, { thingId: x.id })),
    }),
    bootstrap: t.field({
      type: BootstrapConfig,
      nullable: true,
      authScopes: { operator: true },
      resolve: async (x, _args, ctx) => {
        const row = await ctx.services.queries.bootstrap(x.tenant_id, x.id);
        return row && { ...row, tenant_id: x.tenant_id };
      },
    }),
  }),
});

Channel.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    metadata: t.field({ type: 'JSON', resolve: (x) => x.metadata }),
    createdAt: t.field({ type: 'DateTime', resolve: (x) => x.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (x) => x.updated_at }),
    things: t.field({
      type: ThingConnection,
      description: 'Things connected to this channel.',
      complexity: pageComplexity,
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (x, args, ctx) =>
        toConnection(await ctx.services.queries.things(x.tenant_id, args, { channelId: x.id })),
    }),
  }),
});

const ThingFilter = builder.inputType('ThingFilter', {
  fields: (t) => ({
    nameContains: t.string({ description: 'case-insensitive substring of the name' }),
    metadata: t.field({ type: 'JSON', description: 'things whose metadata contains this object' }),
    channelId: t.id({ description: 'things connected to this channel' }),
    enabled: t.boolean(),
  }),
});

const CreateThingPayload = builder
  .objectRef<{ thing: ThingRow; key: string }>('CreateThingPayload')
  .implement({
    fields: (t) => ({
      thing: t.field({ type: Thing, resolve: (x) => x.thing }),
      key: t.exposeString('key', { description: 'The thing key. Shown once: only its hash is stored.' }),
    }),
  });

const CreateThingInput = builder.inputType('CreateThingInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    metadata: t.field({ type: 'JSON' }),
    externalId: t.string({ description: 'for bootstrap, e.g. the MAC address' }),
    externalKey: t.string({ description: 'for bootstrap: the secret the device holds' }),
  }),
});
const UpdateThingInput = builder.inputType('UpdateThingInput', {
  fields: (t) => ({ name: t.string(), metadata: t.field({ type: 'JSON' }) }),
});
const BootstrapInput = builder.inputType('BootstrapInput', {
  fields: (t) => ({
    thingId: t.id({ required: true }),
    externalId: t.string({ required: true }),
    externalKey: t.string({ required: true }),
    channelIds: t.idList({ required: true }),
    content: t.string({ required: true, description: 'handed to the device as is (e.g. JSON config)' }),
  }),
});

builder.queryFields((t) => ({
  thing: t.field({
    type: Thing,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.queries.thing(principalOf(ctx).tenantId, args.id),
  }),
  things: t.field({
    type: ThingConnection,
    authScopes: { viewer: true },
    complexity: pageComplexity,
    args: { first: t.arg.int(), after: t.arg.string(), filter: t.arg({ type: ThingFilter }) },
    resolve: async (_root, args, ctx) =>
      toConnection(
        await ctx.services.queries.things(principalOf(ctx).tenantId, args, {
          nameContains: args.filter?.nameContains,
          metadata: args.filter?.metadata as Record<string, unknown> | undefined,
          channelId: args.filter?.channelId ?? undefined,
          enabled: args.filter?.enabled,
        }),
      ),
  }),
}));

async function thingAfterWrite(ctx: Parameters<typeof principalOf>[0], id: string): Promise<ThingRow> {
  return must(await ctx.services.queries.thing(principalOf(ctx).tenantId, id), 'thing', id);
}

builder.mutationFields((t) => ({
  createThing: t.field({
    type: CreateThingPayload,
    authScopes: { operator: true },
    args: { input: t.arg({ type: CreateThingInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { thingId, key } = await ctx.services.registry.createThing(principalOf(ctx), input);
      return { thing: await thingAfterWrite(ctx, thingId), key };
    },
  }),
  updateThing: t.field({
    type: Thing,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateThingInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.updateThing(principalOf(ctx), args.id, args.input);
      return thingAfterWrite(ctx, args.id);
    },
  }),
  deleteThing: t.boolean({
    authScopes: { operator: true },
    description: 'Deletes the thing; its key stops working at every bridge.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.deleteThing(principalOf(ctx), args.id);
      return true;
    },
  }),
  rotateThingKey: t.field({
    type: CreateThingPayload,
    authScopes: { operator: true },
    description: 'Issues a new key (shown once); the old one stops working at every bridge.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const key = await ctx.services.registry.rotateThingKey(principalOf(ctx), args.id);
      return { thing: await thingAfterWrite(ctx, args.id), key };
    },
  }),
  enableThing: t.field({
    type: Thing,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.setThingEnabled(principalOf(ctx), args.id, true);
      return thingAfterWrite(ctx, args.id);
    },
  }),
  disableThing: t.field({
    type: Thing,
    authScopes: { operator: true },
    description: 'The thing can no longer connect or publish until enabled again.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.setThingEnabled(principalOf(ctx), args.id, false);
      return thingAfterWrite(ctx, args.id);
    },
  }),
  setThingRateLimit: t.field({
    type: Thing,
    authScopes: { operator: true },
    description:
      "Gives the thing its own rate limit at every device bridge (e.g. a gateway forwarding a fleet's " +
      `readings): perSecond more than 0 and at most ${MAX_THING_RATE_PER_SECOND}, burst 1 to ` +
      `${MAX_THING_RATE_BURST}, both given; both null: back to the deployment's limit.`,
    args: {
      thingId: t.arg.id({ required: true }),
      perSecond: t.arg.float({ description: 'messages per second sustained' }),
      burst: t.arg.int({ description: 'messages at once above the rate' }),
    },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.setThingRateLimit(
        principalOf(ctx),
        args.thingId,
        args.perSecond,
        args.burst,
      );
      return thingAfterWrite(ctx, args.thingId);
    },
  }),
  connect: t.boolean({
    authScopes: { operator: true },
    args: { thingId: t.arg.id({ required: true }), channelId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.connect(principalOf(ctx), args.thingId, args.channelId);
      return true;
    },
  }),
  disconnect: t.boolean({
    authScopes: { operator: true },
    args: { thingId: t.arg.id({ required: true }), channelId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.disconnect(principalOf(ctx), args.thingId, args.channelId);
      return true;
    },
  }),
  configureBootstrap: t.field({
    type: Thing,
    authScopes: { operator: true },
    description: 'Sets (replaces) the bootstrap config of a thing.',
    args: { input: t.arg({ type: BootstrapInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await ctx.services.registry.configureBootstrap(principalOf(ctx), input);
      return thingAfterWrite(ctx, input.thingId);
    },
  }),
  removeBootstrap: t.boolean({
    authScopes: { operator: true },
    args: { thingId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.registry.removeBootstrap(principalOf(ctx), args.thingId);
      return true;
    },
  }),
}));
