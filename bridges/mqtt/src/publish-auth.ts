import { createHash } from 'node:crypto';
import { commandOutcomeOf, type DeviceSession, IngestError, isIngestError } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { AedesOptions, Client, PublishPacket } from 'aedes';
import { deviceClientId } from './client-id.ts';
import { sniffContentType } from './content-type.ts';
import { parseMqttTopic } from './topics.ts';

/** Where publishes end inside the broker once handled: nobody can subscribe to it (MQTT `$` topics). */
const HANDLED_TOPIC = '$telly/handled';

/** Refusals that close the connection whatever the QoS: the device must not go on as it is. */
const CLOSES_CONNECTION = new Set([
  'unauthenticated',
  'forbidden',
  'thing-disabled',
  'rate-limited',
  'unavailable',
]);

/**
 * Dedupe id of a QoS1 publish: a retransmission after a lost PUBACK (same client, packet id and
 * payload) is stored once; packet ids are reused, so the payload is part of the id. The client id
 * is the one the device sent: the thing is part of the log's dedupe key already.
 */
function messageId(session: DeviceSession, client: Client, packet: PublishPacket): string | undefined {
  if (packet.qos === 0 || packet.messageId === undefined) return undefined;
  const digest = createHash('sha256').update(packet.payload).digest('base64url').slice(0, 16);
  return `mqtt:${deviceClientId(session.thing.thingId, client.id)}:${packet.messageId}:${digest}`;
}

/**
 * Settles a publish the bridge has handled (stored, or refused and dropped at QoS 0): PUBACK at
 * QoS 1, and nothing routed to the broker's subscribers — they read the channel from the log.
 */
function handled(packet: PublishPacket, callback: (error?: Error | null) => void): void {
  packet.topic = HANDLED_TOPIC;
  packet.retain = false;
  callback(null);
}

/**
 * Settles a publish that will not be stored, already recorded as rejected. At QoS 1 (and 2) the
 * connection is closed without PUBACK: MQTT 3.1.1 has no negative acknowledgement, and a PUBACK
 * tells the device the message is safe. At QoS 0 there is no acknowledgement to withhold, so the
 * message is dropped and the connection stays — unless the refusal is one that always closes it
 * (an `IngestError` in {@link CLOSES_CONNECTION}, or any other error).
 */
function refuse(packet: PublishPacket, error: Error, callback: (error?: Error | null) => void): void {
  const alwaysCloses = !isIngestError(error) || CLOSES_CONNECTION.has(error.reason);
  if (packet.qos === 0 && !alwaysCloses) handled(packet, callback);
  else callback(error);
}

/**
 * PUBLISH: to a channel goes to the log through the thing's session and is PUBACKed only after the
 * JetStream ack; a command result is recorded for the session's own thing (any other closes the
 * connection); anything else that will not be stored (a topic outside `channels/…`, a payload
 * refused by validation or size) is recorded as rejected and {@link refuse}d.
 */
export function publishAuth(
  sessionOf: (client: Client) => DeviceSession | undefined,
  logger: Logger,
): NonNullable<AedesOptions['authorizePublish']> {
  return (client, packet, callback) => {
    const session = client ? sessionOf(client) : undefined;
    if (!client || !session) return callback(new Error('no session'));
    const payload = new Uint8Array(packet.payload as Buffer);
    const topic = parseMqttTopic(packet.topic, 'publish');
    if (topic.kind === 'command-result') {
      if (session.reportResult(topic, commandOutcomeOf(payload))) return handled(packet, callback);
      // another thing's command, or a result that cannot be recorded: closed at any QoS
      return callback(new Error(`the command result on ${packet.topic} was refused`));
    }
    if (topic.kind === 'invalid') {
      return refuse(packet, session.reject(new IngestError('invalid-topic', topic.error.message)), callback);
    }
    session
      .publish({
        channelId: topic.channelId,
        subtopic: topic.subtopic,
        contentType: topic.contentType ?? sniffContentType(payload),
        body: payload,
        messageId: messageId(session, client, packet),
      })
      .then(() => handled(packet, callback))
      .catch((err: unknown) => {
        logger.debug({ err, thingId: session.thing.thingId }, 'MQTT publish refused');
        refuse(packet, err instanceof Error ? err : new Error(String(err)), callback);
      });
  };
}
