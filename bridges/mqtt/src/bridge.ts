import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  bridgeMetrics,
  CredentialsCache,
  DeviceSessions,
  Ingest,
  type RateLimiter,
} from '@telly/bridge-core';
import { type Logger, Publisher } from '@telly/runtime';
import type { Registry } from 'prom-client';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { createBroker, type MqttBroker } from './broker.ts';
import { ChannelFeeds } from './channel-feeds.ts';
import { MQTT_WS_PATH, type MqttConfig } from './config.ts';

export interface MqttBridgeOptions {
  nc: NatsConnection;
  logger: Logger;
  metrics: Registry;
  config: Pick<MqttConfig, 'port' | 'wsPort' | 'tls'>;
  /** Broker id, unique per instance. */
  id?: string;
  rateLimiter?: RateLimiter;
  maxPayloadBytes?: number;
}

export interface MqttBridge {
  broker: MqttBroker;
  /** Bound ports (useful with port 0). */
  ports: { tcp: number; ws: number; tls?: number };
  /** Stops accepting, closes sessions (in-flight publishes finish first), releases everything. */
  close(): Promise<void>;
}

const listen = (server: Server | HttpServer, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve((server.address() as AddressInfo).port));
  });
const closeServer = (server: Server | HttpServer) =>
  new Promise<void>((resolve) => server.close(() => resolve()));

/** MQTT 3.1.1 over TCP, WebSocket (`/mqtt`) and optionally TLS, all into one broker. */
export async function startMqttBridge(options: MqttBridgeOptions): Promise<MqttBridge> {
  const { nc, logger } = options;
  const js = jetstream(nc);
  const publisher = new Publisher(js);
  const credentials = await CredentialsCache.connect(nc);
  const metrics = bridgeMetrics(options.metrics);
  const ingest = new Ingest({
    protocol: 'mqtt',
    credentials,
    publisher,
    metrics,
    logger,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
  });
  let feeds: ChannelFeeds | undefined;
  const sessions = new DeviceSessions({
    ingest,
    credentials,
    jsm: await jetstreamManager(nc),
    publisher,
    metrics,
    logger,
  });
  const broker = await createBroker({
    sessions,
    feeds: () => {
      if (!feeds) throw new Error('channel feeds not ready');
      return feeds;
    },
    logger,
    ...(options.id ? { id: options.id } : {}),
  });
  const { aedes } = broker;
  feeds = new ChannelFeeds(
    js,
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

  const tcp = createTcpServer((socket) => aedes.handle(socket));
  const http = createHttpServer((_req, res) => res.writeHead(426, { upgrade: 'websocket' }).end());
  const wss = new WebSocketServer({ server: http, path: MQTT_WS_PATH });
  wss.on('connection', (ws, req) => aedes.handle(createWebSocketStream(ws), req));
  const tlsConfig = options.config.tls;
  const tls = tlsConfig
    ? createTlsServer(
        { cert: readFileSync(tlsConfig.certFile), key: readFileSync(tlsConfig.keyFile) },
        (socket) => aedes.handle(socket),
      )
    : undefined;
  const ports = {
    tcp: await listen(tcp, options.config.port),
    ws: await listen(http, options.config.wsPort),
    ...(tls && tlsConfig ? { tls: await listen(tls, tlsConfig.port) } : {}),
  };
  logger.info(ports, 'MQTT bridge listening');

  return {
    broker,
    ports,
    async close() {
      const closing = [closeServer(tcp), closeServer(http), ...(tls ? [closeServer(tls)] : [])];
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(closing);
      feeds?.close();
      sessions.close();
      credentials.close();
    },
  };
}
