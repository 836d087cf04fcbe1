import type { DeviceStatus, RejectionRow } from '@telly/devices';
import { OFFLINE_REASONS, REJECTION_REASONS } from '@telly/schemas';
import { builder, principalOf } from '../builder.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';
import { Thing } from './thing.ts';

const Status = builder.objectRef<DeviceStatus>('DeviceStatus').implement({
  description: 'What the bridges last saw of a thing.',
  fields: (t) => ({
    online: t.exposeBoolean('online', {
      description:
        'A session is open (MQTT). HTTP devices open none: for them see lastMessageAt. A bridge that crashed records no disconnect, so its things stay online until they reconnect elsewhere.',
    }),
    lastSeenAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'The last time the platform heard from it: a connect, a disconnect, a message or a refused publish.',
      resolve: (s) => s.lastSeenAt,
    }),
    lastMessageAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When a bridge received its latest stored message.',
      resolve: (s) => s.lastMessageAt,
    }),
    protocol: t.string({
      nullable: true,
      description: 'Of its latest session: mqtt, …',
      resolve: (s) => s.protocol,
    }),
    offlineReason: t.string({
      nullable: true,
      description: `Why its latest session ended: ${OFFLINE_REASONS.join(', ')}.`,
      resolve: (s) => s.offlineReason,
    }),
  }),
});

const Rejection = builder.objectRef<RejectionRow>('Rejection').implement({
  description: 'A publish a bridge refused, and why: nothing of it was stored.',
  fields: (t) => ({
    id: t.exposeID('id'),
    time: t.field({ type: 'DateTime', resolve: (r) => r.at }),
    thingId: t.id({
      nullable: true,
      description: 'null when it was refused before a thing was known',
      resolve: (r) => r.thing_id,
    }),
    channelId: t.id({ nullable: true, resolve: (r) => r.channel_id }),
    protocol: t.exposeString('protocol', { description: 'mqtt, http, …' }),
    reason: t.exposeString('reason', {
      description: `A stable code: ${REJECTION_REASONS.join(', ')} (docs/devices.md).`,
    }),
    detail: t.exposeString('detail', { description: 'What exactly was wrong, for a person.' }),
  }),
});
const RejectionConnection = connectionType('Rejection', Rejection);

builder.objectField(Thing, 'status', (t) =>
  t.field({
    type: Status,
    description: 'Online, last seen, last message.',
    resolve: (thing, _args, ctx) => ctx.services.devices.status(thing.tenant_id, thing.id),
  }),
);

builder.objectField(Thing, 'rejections', (t) =>
  t.field({
    type: RejectionConnection,
    description: "The thing's recently refused publishes, newest first (the last 100 of 7 days, by default).",
    complexity: pageComplexity,
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: async (thing, args, ctx) =>
      toConnection(await ctx.services.devices.rejections(thing.tenant_id, { ...args, thingId: thing.id })),
  }),
);

builder.queryFields((t) => ({
  rejections: t.field({
    type: RejectionConnection,
    authScopes: { viewer: true },
    description: "The tenant's recently refused publishes, newest first, of one thing or all.",
    complexity: pageComplexity,
    args: {
      thingId: t.arg.id(),
      from: t.arg({ type: 'DateTime', description: 'at or after' }),
      to: t.arg({ type: 'DateTime', description: 'before' }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) =>
      toConnection(await ctx.services.devices.rejections(principalOf(ctx).tenantId, args)),
  }),
}));
