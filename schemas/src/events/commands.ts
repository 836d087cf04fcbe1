import Type from 'typebox';
import { data, defineEvent, Id, JsonValue, ProtocolSchema, Timestamp } from './common.ts';

/**
 * The life of a downlink command. `command.requested` is the command itself, in the COMMANDS
 * stream on `cmd.<tenant>.<thing>`; the status events that follow go to EVENTS on
 * `evt.<tenant>.command.<thing>`. Every event carries `commandId` (a UUIDv7 minted by the
 * requester) and `thingId`, so any of them can be routed and correlated on its own.
 */

const CommandName = Type.String({ minLength: 1, maxLength: 128 });

export const CommandRequested = defineEvent(
  'command.requested',
  1,
  data({
    commandId: Id,
    thingId: Id,
    name: CommandName,
    payload: JsonValue,
    expiresAt: Timestamp,
  }),
  'Someone asked a thing to do something; undelivered after expiresAt, it expires.',
);

export const CommandDelivered = defineEvent(
  'command.delivered',
  1,
  data({ commandId: Id, thingId: Id, protocol: ProtocolSchema }),
  'A bridge handed the command to the thing.',
);

export const CommandSucceeded = defineEvent(
  'command.succeeded',
  1,
  data({ commandId: Id, thingId: Id, result: Type.Optional(JsonValue) }),
  'The thing reported that it carried out the command.',
);

export const CommandFailed = defineEvent(
  'command.failed',
  1,
  data({ commandId: Id, thingId: Id, reason: Type.String({ minLength: 1, maxLength: 1024 }) }),
  'The thing reported that the command failed, or it could not be delivered.',
);

export const CommandExpired = defineEvent(
  'command.expired',
  1,
  data({ commandId: Id, thingId: Id }),
  'The command reached its expiresAt before it was carried out.',
);

export const CommandCancelled = defineEvent(
  'command.cancelled',
  1,
  data({ commandId: Id, thingId: Id }),
  'A scheduled command was cancelled before it was sent; recorded on its schedule subject, which it replaces.',
);

/** Command event schemas by type. */
export const COMMAND_EVENTS = {
  'command.requested': CommandRequested,
  'command.delivered': CommandDelivered,
  'command.succeeded': CommandSucceeded,
  'command.failed': CommandFailed,
  'command.expired': CommandExpired,
  'command.cancelled': CommandCancelled,
} as const;
