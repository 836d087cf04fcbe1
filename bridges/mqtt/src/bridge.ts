import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { IngestError, openDeviceGateway, type RateLimiter } from '@telly/bridge-core';
import { DEFAULT_BIND_ADDRESS, type HealthChecks, type Logger, readTlsFiles } from '@telly/runtime';
import type { AcceptPolicy } from '@telly/schemas';
import type { Client } from 'aedes';
import type { Registry } from 'prom-client';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { createBroker, type MqttBroker } from './broker.ts';
import { ChannelFeeds } from './channel-feeds.ts';
import {
  DEFAULT_MQTT_CONNECT_TIMEOUT_MS,
  DEFAULT_MQTT_MAX_PACKET_BYTES,
  DEFAULT_MQTT_MAX_PENDING_PER_ADDRESS,
  MQTT_WS_PATH,
  type MqttConfig,
} from './config.ts';
import { remoteAddress } from './connect-auth.ts';
import { LimitedConnection } from './limited-connection.ts';
import { PendingConnections } from './pending-connections.ts';
import { refusedConnections } from './refused-connections.ts';

export interface MqttBridgeOptions {
  nc: NatsConnection;
  logger: Logger;
  metrics: Registry;
  /** Gets the `credentials` check. */
  health?: HealthChecks;
  /** Listeners, and the bounds on what a connection may send before and after it logs in. */
  config: Pick<MqttConfig, 'port' | 'wsPort' | 'tls'> &
    Partial<Pick<MqttConfig, 'host' | 'maxPacketBytes' | 'connectTimeoutMs' | 'maxPendingPerAddress'>>;
  /** Broker id, unique per instance. */
  id?: string;
  rateLimiter?: RateLimiter;
  maxPayloadBytes?: number;
  /** Accepted record times (`parseAcceptPolicy`). @default DEFAULT_ACCEPT_POLICY of @telly/schemas */
  accept?: AcceptPolicy;
}

export interface MqttBridge {
  broker: MqttBroker;
  /** Bound ports (useful with port 0). */
  ports: { tcp: number; ws: number; tls?: number };
  /** Stops accepting, closes sessions (in-flight publishes finish first), releases everything. */
  close(): Promise<void>;
}

const listen = (server: Server | HttpServer, port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
const closeServer = (server: Server | HttpServer) =>
  new Promise<void>((resolve) => server.close(() => resolve()));

/**
 * MQTT 3.1.1 over TCP, WebSocket (`/mqtt`) and optionally TLS, all into one broker. Every
 * connection is bounded before it authenticates: at most `maxPendingPerAddress` unauthenticated
 * ones per source address, `connectTimeoutMs` to send CONNECT, and no packet (nor WebSocket
 * frame) above `maxPacketBytes` ever buffered.
 */
export async function startMqttBridge(options: MqttBridgeOptions): Promise<MqttBridge> {
  const { nc, logger } = options;
  const maxPacketBytes = options.config.maxPacketBytes ?? DEFAULT_MQTT_MAX_PACKET_BYTES;
  const connectTimeoutMs = options.config.connectTimeoutMs ?? DEFAULT_MQTT_CONNECT_TIMEOUT_MS;
  const pending = new PendingConnections(
    options.config.maxPendingPerAddress ?? DEFAULT_MQTT_MAX_PENDING_PER_ADDRESS,
  );
  const refused = refusedConnections(options.metrics);
  const gateway = await openDeviceGateway({
    nc,
    protocol: 'mqtt',
    logger,
    metrics: options.metrics,
    ...(options.health ? { health: options.health } : {}),
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
    ...(options.accept ? { accept: options.accept } : {}),
  });
  const { sessions } = gateway;
  let feeds: ChannelFeeds | undefined;
  const broker = await createBroker({
    sessions,
    feeds: () => {
      if (!feeds) throw new Error('channel feeds not ready');
      return feeds;
    },
    logger,
    ...(options.id ? { id: options.id } : {}),
    connectTimeoutMs,
    authenticated: (client) => pending.authenticated(remoteAddress(client)),
  });
  const { aedes } = broker;
  feeds = new ChannelFeeds(
    jetstream(nc),
    (topic, payload) =>
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
        (err) => {
          if (err) logger.warn({ err, topic }, 'could not deliver to subscribers');
        },
      ),
    logger,
  );
  aedes.on('clientError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'MQTT client error'),
  );
  // aedes' own words for its CONNECT timeout (lib/client.js)
  aedes.on('connectionError', (_client, err) => {
    if (err.message === 'connect did not arrive in time') refused('connect-timeout');
  });

  /** A packet over the limit: recorded as rejected when the client has a thing's session, else counted. */
  const tooLarge = (client: Client | undefined, message: string) => {
    const session = client && broker.sessions.get(client);
    if (session) session.reject(new IngestError('payload-too-large', message));
    else refused('packet-too-large');
  };
  const handle = (stream: Duplex, req?: Parameters<typeof aedes.handle>[1]): Client => {
    let client: Client | undefined;
    const conn = new LimitedConnection(stream, maxPacketBytes, (error) => tooLarge(client, error.message));
    client = aedes.handle(conn, req);
    return client;
  };
  const admitted = (socket: Socket) => {
    if (pending.admit(socket)) return true;
    refused('too-many-unauthenticated');
    return false;
  };

  const tcp = createTcpServer((socket) => {
    if (admitted(socket)) handle(socket);
  });
  const http = createHttpServer((_req, res) => res.writeHead(426, { upgrade: 'websocket' }).end());
  http.headersTimeout = connectTimeoutMs;
  http.requestTimeout = connectTimeoutMs;
  http.on('connection', (socket: Socket) => admitted(socket));
  const wss = new WebSocketServer({ server: http, path: MQTT_WS_PATH, maxPayload: maxPacketBytes });
  wss.on('connection', (ws, req) => {
    const client = handle(createWebSocketStream(ws), req);
    // ws refuses a frame over maxPayload from its header, and closes with 1009
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') tooLarge(client, err.message);
    });
  });
  const tlsConfig = options.config.tls;
  const tls = tlsConfig
    ? createTlsServer(
        {
          ...(await readTlsFiles(tlsConfig, 'TELLY_MQTT_TLS_CERT', 'TELLY_MQTT_TLS_KEY')),
          handshakeTimeout: connectTimeoutMs,
        },
        (socket) => handle(socket),
      )
    : undefined;
  // counted from the TCP connection, before the TLS handshake
  tls?.on('connection', (socket: Socket) => admitted(socket));
  // a handshake that timed out, failed, or was cut by the cap above
  tls?.on('tlsClientError', (err, socket) => {
    logger.debug({ err: err.message }, 'MQTT TLS handshake failed');
    if ((err as { code?: string }).code === 'ERR_TLS_HANDSHAKE_TIMEOUT') refused('connect-timeout');
    socket.destroy(); // Node leaves that to the listener, even on a handshake timeout
  });
  const host = options.config.host ?? DEFAULT_BIND_ADDRESS;
  const ports = {
    tcp: await listen(tcp, options.config.port, host),
    ws: await listen(http, options.config.wsPort, host),
    ...(tls && tlsConfig ? { tls: await listen(tls, tlsConfig.port, host) } : {}),
  };
  logger.info(ports, 'MQTT bridge listening');

  return {
    broker,
    ports,
    async close() {
      const closing = [closeServer(tcp), closeServer(http), ...(tls ? [closeServer(tls)] : [])];
      for (const client of wss.clients) client.terminate();
      pending.closeAll();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(closing);
      feeds?.close();
      gateway.close();
    },
  };
}
