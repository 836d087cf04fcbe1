import { createHash } from 'node:crypto';
import { type Ingest, IngestError, isIngestError, thingKeyHash } from '@telly/bridge-core';
import type { CredentialsCache, ThingCredential } from '@telly/registry';
import type { Logger } from '@telly/runtime';
import { createEvent, isSubjectError, parseMessageTopic } from '@telly/schemas';
import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { Aedes as AedesBroker } from 'aedes';
import { v7 } from 'uuid';
import type { ChannelFeeds } from './channel-feeds.ts';
import { type CommandFeeds, commandTopic } from './command-feeds.ts';
import { sniffContentType } from './content-type.ts';
import type { Lifecycle } from './lifecycle.ts';

/** Where accepted publishes go inside the broker: nobody can subscribe to it (MQTT `$` topics). */
const SINK_TOPIC = '$telly/ingested';

/** Refusals that close the connection; the others drop the publish (PUBACK + rejected event). */
const CLOSES_CONNECTION = new Set([
  'unauthenticated',
  'forbidden',
  'thing-disabled',
  'rate-limited',
  'unavailable',
]);

export interface Session {
  thing: ThingCredential;
  keyHash: string;
  remoteAddress: string;
}

export interface BrokerOptions {
  ingest: Ingest;
  credentials: CredentialsCache;
  feeds: () => ChannelFeeds;
  commands: () => CommandFeeds;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Broker id, unique per instance. */
  id?: string;
}

export interface MqttBroker {
  aedes: Aedes;
  sessions: Map<Client, Session>;
}

function authError(returnCode: 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function remoteAddress(client: Client): string {
  const socket = (client.req?.socket ?? client.conn) as { remoteAddress?: string; remotePort?: number };
  return socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort ?? 0}` : 'unknown';
}

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
 * An aedes broker whose every decision goes through Telly: CONNECT is checked against the
 * credentials bucket (username = thing id, password = thing key), PUBLISH goes to JetStream and
 * is PUBACKed only after the ack, SUBSCRIBE is allowed on connected channels and fed from the log.
 */
export async function createBroker(options: BrokerOptions): Promise<MqttBroker> {
  const { ingest, logger } = options;
  const sessions = new Map<Client, Session>();

  const aedes = await AedesBroker.createBroker({
    ...(options.id ? { id: options.id } : {}),
    authenticate(client, username, password, done) {
      const key = password?.toString() ?? '';
      ingest
        .authenticate(key, username ?? '')
        .then((thing) => {
          sessions.set(client, { thing, keyHash: thingKeyHash(key), remoteAddress: remoteAddress(client) });
          done(null, true);
        })
        .catch((err: unknown) => {
          const reason = isIngestError(err) ? err.reason : 'unexpected';
          if (reason === 'unexpected') logger.error({ err }, 'MQTT authentication failed unexpectedly');
          if (reason === 'thing-disabled') return done(authError(5, 'thing disabled'), false);
          if (reason === 'unavailable' || reason === 'unexpected')
            return done(authError(3, 'server unavailable'), false);
          done(authError(4, 'bad username or password'), false);
        });
    },

    authorizePublish(client, packet, callback) {
      const session = client && sessions.get(client);
      if (!client || !session) return callback(new Error('no session'));
      const result = RESULT_TOPIC.exec(packet.topic);
      if (result) {
        reportResult(options.commands(), session.thing, result, packet);
        return drop(packet, callback);
      }
      let channelId: string;
      let subtopic: readonly string[];
      try {
        ({ channel: channelId, subtopic } = parseMessageTopic(packet.topic));
      } catch (err) {
        if (!isSubjectError(err)) return callback(err as Error);
        // not a channel topic: refused and recorded, the connection stays
        ingest.reject(session.thing, undefined, new IngestError('invalid-topic', err.message));
        return drop(packet, callback);
      }
      const payload = new Uint8Array(packet.payload as Buffer);
      ingest
        .publish({
          thing: session.thing,
          channelId,
          subtopic,
          contentType: sniffContentType(payload),
          body: payload,
          messageId: messageId(client, packet),
        })
        .then(() => drop(packet, callback))
        .catch((err: unknown) => {
          if (isIngestError(err) && !CLOSES_CONNECTION.has(err.reason)) return drop(packet, callback);
          logger.debug(
            { err, thingId: session.thing.thingId },
            'MQTT publish refused; closing the connection',
          );
          callback(err instanceof Error ? err : new Error(String(err)));
        });
    },

    authorizeSubscribe(client, subscription, callback) {
      const session = sessions.get(client);
      const channelId = session && subscribableChannel(session.thing, subscription);
      if (!session || channelId === undefined) return callback(null, null); // SUBACK 0x80 for this topic
      if (channelId === null) {
        // its own command topic: pending commands start flowing
        // a persistent session (clean=false) keeps outgoing QoS 1 packets, so its PUBACK is seen
        // ('ack' below); a clean session's is not, so writing to its connection counts as delivery
        const deliver = (command: { id: string }) => {
          const payload = Buffer.from(JSON.stringify(command));
          client.publish(
            {
              cmd: 'publish',
              topic: commandTopic(session.thing.thingId),
              payload,
              qos: 1,
              retain: false,
              dup: false,
            },
            (err) => {
              if (err) return logger.debug({ err: err.message }, 'command not written to the client');
              if (client.clean) options.commands().delivered(client.id, payload);
            },
          );
        };
        return options
          .commands()
          .start(client.id, session.thing, deliver)
          .then(() => callback(null, subscription))
          .catch((err: unknown) => {
            logger.warn({ err }, 'could not start the command feed');
            callback(null, null);
          });
      }
      options
        .feeds()
        .add(client.id, session.thing.tenantId, channelId)
        .then(() => callback(null, subscription))
        .catch((err: unknown) => {
          logger.warn({ err, channelId }, 'could not start a channel feed');
          callback(null, null);
        });
    },
  });

  aedes.on('clientReady', (client) => {
    const session = sessions.get(client);
    if (session) options.lifecycle.online(session.thing, session.remoteAddress);
  });
  aedes.on('ack', (packet, client) => {
    const session = client && sessions.get(client);
    if (session && packet && 'topic' in packet && packet.topic === commandTopic(session.thing.thingId)) {
      options.commands().delivered(client.id, packet.payload);
    }
  });
  aedes.on('keepaliveTimeout', (client) => {
    const session = sessions.get(client);
    if (session) options.lifecycle.offline(session.thing, session.remoteAddress, 'keepalive-timeout');
    sessions.delete(client);
  });
  aedes.on('clientDisconnect', (client) => {
    const session = sessions.get(client);
    if (session) options.lifecycle.offline(session.thing, session.remoteAddress, 'disconnected');
    sessions.delete(client);
    options.feeds().remove(client.id);
    options.commands().stop(client.id);
  });
  aedes.on('unsubscribe', (topics, client) => {
    for (const topic of topics) {
      if (topic.startsWith('things/')) options.commands().stop(client.id);
      const channel = /^channels\/([^/]+)\/messages/.exec(topic)?.[1];
      if (channel) options.feeds().remove(client.id, channel);
    }
  });

  // a rotated, deleted or disabled key, or a changed channel list, ends the live sessions that used it
  options.credentials.onChange((keyHash, credential) => {
    for (const [client, session] of sessions) {
      if (session.keyHash !== keyHash) continue;
      const same =
        credential?.enabled &&
        credential.channels.join() === session.thing.channels.join() &&
        credential.thingId === session.thing.thingId;
      if (same) continue;
      logger.info({ thingId: session.thing.thingId }, 'credentials changed; disconnecting the MQTT session');
      options.lifecycle.offline(session.thing, session.remoteAddress, 'kicked');
      sessions.delete(client);
      client.close();
    }
  });

  return { aedes, sessions };
}

/** `things/<thing>/commands/<command>/result` */
const RESULT_TOPIC = /^things\/([0-9a-f-]{36})\/commands\/([0-9a-f-]{36})\/result$/;

/**
 * A device's command result: JSON `{"status":"succeeded","result":…}` or
 * `{"status":"failed","reason":"…"}`; any other payload counts as success with that result.
 */
function reportResult(
  commands: CommandFeeds,
  thing: ThingCredential,
  [, thingId, commandId]: RegExpExecArray,
  packet: PublishPacket,
): void {
  if (thingId !== thing.thingId || !commandId) return; // only a thing's own commands
  let body: { status?: unknown; result?: unknown; reason?: unknown } | undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(packet.payload as Uint8Array).toString());
    body = parsed !== null && typeof parsed === 'object' ? (parsed as typeof body) : { result: parsed };
  } catch {
    body = { result: Buffer.from(packet.payload as Uint8Array).toString() };
  }
  const failed = body?.status === 'failed';
  const event = failed
    ? createEvent(
        'command.failed',
        {
          tenantId: thing.tenantId,
          data: {
            commandId,
            thingId,
            reason: String(body?.reason ?? 'the device reported a failure').slice(0, 1024),
          },
        },
        { id: v7(), now: Date.now() },
      )
    : createEvent(
        'command.succeeded',
        {
          tenantId: thing.tenantId,
          data: {
            commandId,
            thingId,
            ...(body?.result !== undefined ? { result: body.result as never } : {}),
          },
        },
        { id: v7(), now: Date.now() },
      );
  commands.record(event, `result:${commandId}`);
}

/** Accepted publishes end here: the log is where subscribers read them from. */
function drop(packet: PublishPacket, callback: (error?: Error | null) => void): void {
  packet.topic = SINK_TOPIC;
  packet.retain = false;
  callback(null);
}

/**
 * The channel a subscription reads (`channels/<id>/messages[/…]` on a connected channel), `null`
 * for the thing's own command topic, undefined when not allowed.
 */
function subscribableChannel(thing: ThingCredential, subscription: Subscription): string | null | undefined {
  const levels = subscription.topic.split('/');
  if (levels[0] === 'things' && levels[1] === thing.thingId && levels[2] === 'commands') return null;
  if (levels[0] !== 'channels' || levels[2] !== 'messages') return undefined;
  const channelId = levels[1] ?? '';
  return thing.channels.includes(channelId) ? channelId : undefined;
}
