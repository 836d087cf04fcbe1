import { builder, principalOf } from '../builder.ts';
import type { CommandRow } from '../services/command-service.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';
import { Thing } from './thing.ts';

const CommandStatus = builder.enumType('CommandStatus', {
  values: ['PENDING', 'DELIVERED', 'SUCCEEDED', 'FAILED', 'EXPIRED'] as const,
});

const Command = builder.objectRef<CommandRow>('Command').implement({
  description:
    'A downlink command: PENDING → DELIVERED (the device acked it) → SUCCEEDED/FAILED, or EXPIRED.',
  fields: (t) => ({
    id: t.exposeID('id'),
    thingId: t.exposeID('thing_id'),
    name: t.string({ resolve: (c) => c.name ?? '' }),
    payload: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.payload }),
    status: t.field({ type: CommandStatus, resolve: (c) => c.status.toUpperCase() as never }),
    requestedAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.requested_at }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.expires_at }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.delivered_at }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.completed_at }),
    result: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.result }),
    reason: t.string({ nullable: true, resolve: (c) => c.reason }),
  }),
});
const CommandConnection = connectionType('Command', Command);

builder.objectField(Thing, 'commands', (t) =>
  t.field({
    type: CommandConnection,
    description: "The thing's commands, newest first.",
    complexity: pageComplexity,
    args: { first: t.arg.int(), after: t.arg.string(), status: t.arg({ type: CommandStatus }) },
    resolve: async (thing, args, ctx) =>
      toConnection(
        await ctx.services.commands.list(thing.tenant_id, thing.id, {
          ...args,
          status: args.status?.toLowerCase(),
        }),
      ),
  }),
);

builder.queryFields((t) => ({
  command: t.field({
    type: Command,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.commands.command(principalOf(ctx), args.id),
  }),
}));

builder.mutationFields((t) => ({
  sendCommand: t.field({
    type: Command,
    authScopes: { operator: true },
    description:
      'Sends a command to a thing: delivered on things/{id}/commands when it is connected, or when it reconnects before `ttl` (default 1h, at most 7d) runs out.',
    args: {
      thingId: t.arg.id({ required: true }),
      name: t.arg.string({ required: true }),
      payload: t.arg({ type: 'JSON' }),
      ttl: t.arg.string({ description: 'e.g. "30s", "5m", "1h"' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.commands.send(principalOf(ctx), {
        thingId: args.thingId,
        name: args.name,
        payload: args.payload,
        ttl: args.ttl,
      }),
  }),
}));
