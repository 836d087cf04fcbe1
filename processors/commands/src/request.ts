import type { PubAck } from '@nats-io/jetstream';
import type { Publisher } from '@telly/runtime';
import {
  commandSubject,
  createEvent,
  EVENT_TYPE_HEADER,
  type EventOf,
  encodeEvent,
  scheduledCommandSubject,
} from '@telly/schemas';
import { v7 } from 'uuid';

/** Header of a scheduled command (and of the command the schedule sends): the command it reverts. */
export const REVERT_OF_HEADER = 'Telly-Revert-Of';
/** NATS message schedule headers (ADR-51). */
export const SCHEDULE_HEADER = 'Nats-Schedule';
export const SCHEDULER_HEADER = 'Nats-Scheduler';

/** What to send: a command now and, for a timed command, its revert after `revertAfterMs`. */
export interface CommandRequest {
  tenantId: string;
  /** A user id, `apikey:<id>` or `system`. */
  actor?: string | undefined;
  thingId: string;
  name: string;
  payload: unknown;
  /** How long the command waits for its thing. */
  ttlMs: number;
  /** A timed command: the revert payload, sent `revertAfterMs` after the command. */
  revert?: { afterMs: number; payload: unknown } | undefined;
  /** @default a fresh UUIDv7 */
  commandId?: string;
  /** @default a fresh UUIDv7 */
  revertCommandId?: string;
  /** Prefix of the `Nats-Msg-Id`s, for a caller that may send the same request twice (a rule's action). */
  msgIdPrefix?: string;
  /** @default Date.now() */
  now?: number;
}

export interface RequestedCommand {
  commandId: string;
  revertCommandId?: string;
  /** When the revert is sent (whole seconds: the schedule's resolution). */
  revertAt?: Date;
  ack: PubAck;
}

/**
 * Appends `command.requested` to COMMANDS (with a per-message TTL, so an expired command is
 * never delivered). A timed command first stores its revert as a NATS message schedule on
 * `cmd.<tenant>.<thing>.scheduled.<revert id>`: the server sends it onto the thing's command
 * subject at its time, durably, whether or not any Telly process is running then. The
 * schedule goes first, so a command is never left on without its revert; when the command
 * itself cannot be recorded, the schedule is cancelled again.
 */
export async function requestCommand(
  publisher: Publisher,
  request: CommandRequest,
): Promise<RequestedCommand> {
  const now = request.now ?? Date.now();
  const commandId = request.commandId ?? v7();
  const ttl = `${Math.ceil(request.ttlMs / 1000) + 60}s`; // + a margin for command.expired to be recorded
  const prefix = request.msgIdPrefix ?? '';
  const requested = (id: string, payload: unknown, sendAt: number) =>
    createEvent(
      'command.requested',
      {
        tenantId: request.tenantId,
        actor: request.actor,
        data: {
          commandId: id,
          thingId: request.thingId,
          name: request.name,
          payload: (payload ?? null) as never,
          expiresAt: new Date(sendAt + request.ttlMs).toISOString(),
        },
      },
      { id: v7({ msecs: now }), now },
    );
  let revert: { id: string; at: Date; seq: number } | undefined;
  if (request.revert) {
    const id = request.revertCommandId ?? v7();
    const at = new Date(Math.ceil((now + request.revert.afterMs) / 1000) * 1000);
    const event = requested(id, request.revert.payload, at.getTime());
    const ack = await publisher.publish(
      scheduledCommandSubject({ tenant: request.tenantId, thing: request.thingId, command: id }),
      encodeEvent(event),
      {
        msgId: `${prefix}scheduled:${id}`,
        headers: {
          [EVENT_TYPE_HEADER]: event.type,
          [SCHEDULE_HEADER]: `@at ${at.toISOString().replace('.000Z', 'Z')}`,
          'Nats-Schedule-Target': commandSubject({ tenant: request.tenantId, thing: request.thingId }),
          'Nats-Schedule-TTL': ttl,
          [REVERT_OF_HEADER]: commandId,
        },
      },
    );
    revert = { id, at, seq: ack.seq };
  }
  const event = requested(commandId, request.payload, now);
  let ack: PubAck;
  try {
    ack = await publisher.publishEvent(event, { ttl, ...(prefix ? { msgId: `${prefix}${commandId}` } : {}) });
  } catch (err) {
    if (revert) {
      await cancelScheduledCommand(publisher, {
        tenantId: request.tenantId,
        thingId: request.thingId,
        commandId: revert.id,
        scheduleSeq: revert.seq,
        actor: request.actor,
      }).catch(() => {});
    }
    throw err;
  }
  return revert ? { commandId, revertCommandId: revert.id, revertAt: revert.at, ack } : { commandId, ack };
}

/**
 * Cancels a scheduled command: `command.cancelled` replaces the schedule on its subject (a
 * subject roll-up), expecting the schedule to be the subject's last message, so a schedule
 * that has already fired (and removed itself) is not "cancelled" after the fact: that publish
 * fails with `WRONG_LAST_SEQUENCE`.
 */
export function cancelScheduledCommand(
  publisher: Publisher,
  input: {
    tenantId: string;
    thingId: string;
    commandId: string;
    scheduleSeq: number;
    actor?: string | undefined;
  },
): Promise<PubAck> {
  const event: EventOf<'command.cancelled'> = createEvent(
    'command.cancelled',
    {
      tenantId: input.tenantId,
      actor: input.actor,
      data: { commandId: input.commandId, thingId: input.thingId },
    },
    { id: v7(), now: Date.now() },
  );
  return publisher.publish(
    scheduledCommandSubject({ tenant: input.tenantId, thing: input.thingId, command: input.commandId }),
    encodeEvent(event),
    {
      msgId: `cancelled:${input.commandId}`,
      headers: { [EVENT_TYPE_HEADER]: event.type, 'Nats-Rollup': 'sub' },
      expectLastSubjectSequence: input.scheduleSeq,
    },
  );
}
