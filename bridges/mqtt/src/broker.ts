import type { DeviceSession, DeviceSessions } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { Aedes, Client } from 'aedes';
import { Aedes as AedesBroker } from 'aedes';
import type { ChannelFeeds } from './channel-feeds.ts';
import { commandAcked } from './command-downlink.ts';
import { connectAuth } from './connect-auth.ts';
import { publishAuth } from './publish-auth.ts';
import { forwardAuth, subscribeAuth, unsubscribed } from './subscribe-auth.ts';

export interface BrokerOptions {
  sessions: DeviceSessions;
  feeds: () => ChannelFeeds;
  logger: Logger;
  /** Broker id, unique per instance. */
  id?: string;
  /** Time a connection has to send its CONNECT, in ms. @default 30 s (aedes') */
  connectTimeoutMs?: number;
  /** Called when a client's CONNECT is accepted (before its CONNACK). */
  authenticated?: (client: Client) => void;
}

export interface MqttBroker {
  aedes: Aedes;
  /** The device session of each connected client. */
  sessions: Map<Client, DeviceSession>;
}

/**
 * An aedes broker whose every decision goes through Telly: CONNECT opens a device session
 * ({@link connectAuth}), PUBLISH goes through it ({@link publishAuth}), SUBSCRIBE is fed from the
 * log ({@link subscribeAuth}), every delivery is checked again as it is sent ({@link forwardAuth});
 * a client's session ends with its connection.
 */
export async function createBroker(options: BrokerOptions): Promise<MqttBroker> {
  const { logger } = options;
  const sessions = new Map<Client, DeviceSession>();
  const sessionOf = (client: Client) => sessions.get(client);
  const opened = (client: Client, session: DeviceSession) => {
    sessions.set(client, session);
    options.authenticated?.(client);
    // a connection that dies before it is registered never emits clientDisconnect
    if (client.closed || client.conn.destroyed) return end(client, 'disconnected');
    client.conn.once('close', () => end(client, 'disconnected'));
  };
  const end = (client: Client, reason: 'disconnected' | 'keepalive-timeout') => {
    sessions.get(client)?.close(reason);
    sessions.delete(client);
  };
  const revoked = (client: Client) => {
    sessions.delete(client);
    client.close();
  };

  const aedes = await AedesBroker.createBroker({
    ...(options.id ? { id: options.id } : {}),
    ...(options.connectTimeoutMs ? { connectTimeout: options.connectTimeoutMs } : {}),
    ...connectAuth(options.sessions, logger, opened, revoked),
    authorizePublish: publishAuth(sessionOf, logger),
    authorizeSubscribe: subscribeAuth(sessionOf, options.feeds, logger),
    authorizeForward: forwardAuth(sessionOf),
  });

  aedes.on('ack', (packet, client) => {
    const session = client && sessions.get(client);
    if (session && packet) commandAcked(session, packet);
  });
  aedes.on('keepaliveTimeout', (client) => end(client, 'keepalive-timeout'));
  aedes.on('clientDisconnect', (client) => {
    end(client, 'disconnected');
    options.feeds().remove(client);
  });
  aedes.on('unsubscribe', (topics, client) =>
    unsubscribed(client, sessions.get(client), topics, options.feeds()),
  );

  return { aedes, sessions };
}
