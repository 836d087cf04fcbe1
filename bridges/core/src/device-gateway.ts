import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type HealthChecks, type Logger, Publisher, type PublisherOptions } from '@telly/runtime';
import type { AcceptPolicy, Protocol } from '@telly/schemas';
import type { Registry } from 'prom-client';
import { CredentialsCache } from './credentials/credentials-cache.ts';
import { Ingest } from './ingest.ts';
import { type BridgeMetrics, bridgeMetrics } from './metrics.ts';
import type { RateLimiter } from './rate-limit.ts';
import { DeviceSessions } from './session/device-sessions.ts';

export interface DeviceGatewayOptions {
  nc: NatsConnection;
  protocol: Protocol;
  logger: Logger;
  metrics: Registry;
  /** Gets the `credentials` check: can keys not cached yet be looked up. */
  health?: HealthChecks;
  rateLimiter?: RateLimiter;
  maxPayloadBytes?: number;
  /** Accepted record times (`parseAcceptPolicy`). @default DEFAULT_ACCEPT_POLICY of @telly/schemas */
  accept?: AcceptPolicy;
  /** The publisher's retry window and ack timeout (tests of an unavailable log shorten them). @default DEFAULT_PUBLISHER */
  publisher?: PublisherOptions;
}

/** What a device bridge stands on, whatever its protocol. */
export interface DeviceGateway {
  credentials: CredentialsCache;
  ingest: Ingest;
  sessions: DeviceSessions;
  publisher: Publisher;
  metrics: BridgeMetrics;
  /** Ends every open session (`shutdown`) and stops watching credentials. */
  close(): void;
}

/**
 * Opens the device side of a bridge: the watched `credentials` bucket, the Ingest that
 * authenticates, validates and durably publishes, and the device sessions (presence, command
 * downlink and results). Every bridge opens exactly this; only the protocol differs.
 */
export async function openDeviceGateway(options: DeviceGatewayOptions): Promise<DeviceGateway> {
  const { nc, protocol, logger } = options;
  const publisher = new Publisher(jetstream(nc), options.publisher);
  const credentials = await CredentialsCache.connect(nc);
  options.health?.add('credentials', credentials.healthCheck());
  const metrics = bridgeMetrics(options.metrics);
  const ingest = new Ingest({
    protocol,
    credentials,
    publisher,
    metrics,
    logger,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
    ...(options.accept ? { accept: options.accept } : {}),
  });
  const sessions = new DeviceSessions({
    ingest,
    credentials,
    jsm: await jetstreamManager(nc),
    publisher,
    metrics,
    logger,
  });
  return {
    credentials,
    ingest,
    sessions,
    publisher,
    metrics,
    close() {
      sessions.close();
      credentials.close();
    },
  };
}
