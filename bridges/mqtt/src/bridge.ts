import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { openDeviceGateway, type RateLimiter } from '@telly/bridge-core';
import { type HealthChecks, type Logger, readTlsFiles } from '@telly/runtime';
import type { Registry } from 'prom-client';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { createBroker, type MqttBroker } from './broker.ts';
import { ChannelFeeds } from './channel-feeds.ts';
import { MQTT_WS_PATH, type MqttConfig } from './config.ts';

export interface MqttBridgeOptions {
  nc: NatsConnection;
  logger: Logger;
  metrics: Registry;
  /** Gets the `credentials` check. */
  health?: HealthChecks;
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
  const gateway = await openDeviceGateway({
    nc,
    protocol: 'mqtt',
    logger,
    metrics: options.metrics,
    ...(options.health ? { health: options.health } : {}),
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
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

  const tcp = createTcpServer((socket) => aedes.handle(socket));
  const http = createHttpServer((_req, res) => res.writeHead(426, { upgrade: 'websocket' }).end());
  const wss = new WebSocketServer({ server: http, path: MQTT_WS_PATH });
  wss.on('connection', (ws, req) => aedes.handle(createWebSocketStream(ws), req));
  const tlsConfig = options.config.tls;
  const tls = tlsConfig
    ? createTlsServer(await readTlsFiles(tlsConfig, 'TELLY_MQTT_TLS_CERT', 'TELLY_MQTT_TLS_KEY'), (socket) =>
        aedes.handle(socket),
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
      gateway.close();
    },
  };
}
