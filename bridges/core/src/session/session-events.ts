import {
  createEvent,
  type OfflineReason,
  type Protocol,
  type TellyEvent,
  type ThingCredential,
} from '@telly/schemas';
import { v7 } from 'uuid';
import type { CommandOutcome } from './command-outcome.ts';

/**
 * The facts a device session records in EVENTS: presence (`thing.online`, `thing.offline`) and
 * what became of the commands it was handed (`command.delivered`, `command.succeeded`,
 * `command.failed`). Each builder validates the event, so a bad value throws here, not in the log.
 */

/** Who is present: what presence events say about a session. */
export interface PresenceOf {
  thing: ThingCredential;
  protocol: Protocol;
  remoteAddress: string;
}

const context = () => ({ id: v7(), now: Date.now() });

/** `thing.online`: a session opened. */
export function onlineEvent({ thing, protocol, remoteAddress }: PresenceOf): TellyEvent {
  return createEvent(
    'thing.online',
    { tenantId: thing.tenantId, data: { thingId: thing.thingId, protocol, remoteAddress } },
    context(),
  );
}

/** `thing.offline`: a session ended, and why. */
export function offlineEvent(
  { thing, protocol, remoteAddress }: PresenceOf,
  reason: OfflineReason,
): TellyEvent {
  return createEvent(
    'thing.offline',
    { tenantId: thing.tenantId, data: { thingId: thing.thingId, protocol, remoteAddress, reason } },
    context(),
  );
}

/** `command.delivered`: the thing acknowledged a command it was handed over `protocol`. */
export function deliveredEvent(thing: ThingCredential, commandId: string, protocol: Protocol): TellyEvent {
  return createEvent(
    'command.delivered',
    { tenantId: thing.tenantId, data: { commandId, thingId: thing.thingId, protocol } },
    context(),
  );
}

/** `command.succeeded` or `command.failed`, as the thing reported. */
export function resultEvent(thing: ThingCredential, commandId: string, outcome: CommandOutcome): TellyEvent {
  const { tenantId, thingId } = thing;
  if (outcome.status === 'failed') {
    return createEvent(
      'command.failed',
      { tenantId, data: { commandId, thingId, reason: outcome.reason } },
      context(),
    );
  }
  const result = outcome.result === undefined ? {} : { result: outcome.result as never };
  return createEvent('command.succeeded', { tenantId, data: { commandId, thingId, ...result } }, context());
}
