import Type from 'typebox';
import { data, defineEvent, Id, ProtocolSchema } from './common.ts';

/**
 * Facts the bridges record about devices: rejected publishes (`evt.<tenant>.rejected.<thing>`,
 * `_` for no thing) and connection lifecycle (`evt.<tenant>.lifecycle.<thing>`).
 *
 * A rejection is only recorded once the tenant is known (the thing id or channel resolved to
 * one); failures before that, such as an unknown key, are metrics and logs, never log entries,
 * so that anonymous traffic cannot fill the log.
 */

/** Why a publish was refused. */
export const REJECTION_REASONS = [
  'unauthenticated',
  'forbidden',
  'thing-disabled',
  'invalid-topic',
  'invalid-payload',
  'unsupported-content-type',
  'payload-too-large',
  'rate-limited',
  'unavailable',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Why a connection ended. */
export const OFFLINE_REASONS = [
  'disconnected',
  'keepalive-timeout',
  'connection-error',
  'taken-over',
  'kicked',
  'shutdown',
] as const;
export type OfflineReason = (typeof OFFLINE_REASONS)[number];

const RemoteAddress = Type.String({
  minLength: 1,
  maxLength: 255,
  description: 'peer address, e.g. 203.0.113.7:51234',
});

export const MessageRejected = defineEvent(
  'message.rejected',
  1,
  data({
    protocol: ProtocolSchema,
    thingId: Type.Optional(Id),
    channelId: Type.Optional(Id),
    reason: Type.Enum(REJECTION_REASONS),
    detail: Type.String({ maxLength: 1024 }),
  }),
  'A bridge refused a publish.',
);

export const ThingOnline = defineEvent(
  'thing.online',
  1,
  data({ thingId: Id, protocol: ProtocolSchema, remoteAddress: RemoteAddress }),
  'A thing opened a session (MQTT connect, CoAP observe).',
);

export const ThingOffline = defineEvent(
  'thing.offline',
  1,
  data({
    thingId: Id,
    protocol: ProtocolSchema,
    remoteAddress: RemoteAddress,
    reason: Type.Optional(Type.Enum(OFFLINE_REASONS)),
  }),
  "A thing's session ended.",
);

/** Ingest event schemas by type. */
export const INGEST_EVENTS = {
  'message.rejected': MessageRejected,
  'thing.online': ThingOnline,
  'thing.offline': ThingOffline,
} as const;
