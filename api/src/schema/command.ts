import { builder, principalOf } from '../builder.ts';
import type { CommandRow } from '../services/command-service.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';
import { Thing } from './thing.ts';

const CommandStatus = builder.enumType('CommandStatus', {
  values: ['SCHEDULED', 'PENDING', 'DELIVERED', 'SUCCEEDED', 'FAILED', 'EXPIRED', 'CANCELLED'] as const,
});

export const Command = builder.objectRef<CommandRow>('Command');
Command.implement({
  description:
    'A downlink command: PENDING → DELIVERED (the device acked it) → SUCCEEDED/FAILED, or EXPIRED. The revert of a timed command is SCHEDULED until its time (then PENDING), or CANCELLED.',
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
    revertAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'A timed command: when its revert is (or was) to be sent; the revert itself: when it is sent.',
      resolve: async (c, _args, ctx) =>
        c.scheduled_for ?? (await ctx.services.commands.revertOf(c.tenant_id, c.id))?.scheduled_for ?? null,
    }),
    revert: t.field({
      type: Command,
      nullable: true,
      description: 'A timed command: the command that reverts it after its duration.',
      resolve: (c, _args, ctx) => ctx.services.commands.revertOf(c.tenant_id, c.id),
    }),
    revertOf: t.field({
      type: Command,
      nullable: true,
      description: 'The revert of a timed command: the command it reverts.',
      resolve: (c, _args, ctx) =>
        c.revert_of ? ctx.services.commands.commandOfTenant(c.tenant_id, c.revert_of) : null,
    }),
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
      duration: t.arg.string({
        description:
          'A timed command: `revertPayload` is sent this long after `payload` (1 s to 24 h), durably, by a NATS message schedule.',
      }),
      revertPayload: t.arg({ type: 'JSON', description: 'What a timed command sends after `duration`.' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.commands.send(principalOf(ctx), {
        thingId: args.thingId,
        name: args.name,
        payload: args.payload,
        ttl: args.ttl,
        duration: args.duration,
        revertPayload: args.revertPayload,
      }),
  }),
  cancelCommand: t.field({
    type: Command,
    authScopes: { operator: true },
    description:
      'Cancels the scheduled revert of a timed command (`id`: the timed command or its revert); refused once the revert was sent.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.commands.cancel(principalOf(ctx), args.id),
  }),
}));
