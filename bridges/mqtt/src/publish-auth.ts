import { createHash } from 'node:crypto';
import { commandOutcomeOf, type DeviceSession, IngestError, isIngestError } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { AedesOptions, Client, PublishPacket } from 'aedes';
import { sniffContentType } from './content-type.ts';
import { parseMqttTopic } from './topics.ts';

/** Where publishes end inside the broker once handled: nobody can subscribe to it (MQTT `$` topics). */
const HANDLED_TOPIC = '$telly/handled';

/** Refusals that close the connection; the others are PUBACKed (and recorded as rejected). */
const CLOSES_CONNECTION = new Set([
  'unauthenticated',
  'forbidden',
  'thing-disabled',
  'rate-limited',
  'unavailable',
]);

/**
 * Dedupe id of a QoS1 publish: a retransmission after a lost PUBACK (same client, packet id and
 * payload) is stored once; packet ids are reused, so the payload is part of the id.
 */
function messageId(client: Client, packet: PublishPacket): string | undefined {
  if (packet.qos === 0 || packet.messageId === undefined) return undefined;
  const digest = createHash('sha256').update(packet.payload).digest('base64url').slice(0, 16);
  return `mqtt:${client.id}:${packet.messageId}:${digest}`;
}

/**
 * Answers a publish the bridge has handled (stored, recorded or refused without closing): PUBACK,
 * and nothing routed to the broker's subscribers — they read the channel from the log instead.
 */
function pubackHandled(packet: PublishPacket, callback: (error?: Error | null) => void): void {
  packet.topic = HANDLED_TOPIC;
  packet.retain = false;
  callback(null);
}

/**
 * PUBLISH: to a channel goes to the log through the thing's session and is PUBACKed only after the
 * JetStream ack; a command result is recorded for the session's own thing; any other topic is
 * refused as `invalid-topic` (recorded, the connection stays).
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
      session.reportResult(topic, commandOutcomeOf(payload));
      return pubackHandled(packet, callback);
    }
    if (topic.kind === 'invalid') {
      session.reject(new IngestError('invalid-topic', topic.error.message));
      return pubackHandled(packet, callback);
    }
    session
      .publish({
        channelId: topic.channelId,
        subtopic: topic.subtopic,
        contentType: topic.contentType ?? sniffContentType(payload),
        body: payload,
        messageId: messageId(client, packet),
      })
      .then(() => pubackHandled(packet, callback))
      .catch((err: unknown) => {
        if (isIngestError(err) && !CLOSES_CONNECTION.has(err.reason)) return pubackHandled(packet, callback);
        logger.debug({ err, thingId: session.thing.thingId }, 'MQTT publish refused; closing the connection');
        callback(err instanceof Error ? err : new Error(String(err)));
      });
  };
}
