// An HTTP bridge on a free port over a bridge test stack, with its own Ingest, metrics and health.
import type { AddressInfo } from 'node:net';
import { jetstream } from '@nats-io/jetstream';
import { bridgeMetrics, CredentialsCache, Ingest, type RateLimiter } from '@telly/bridge-core';
import type { BridgeTestStack } from '@telly/bridge-core/testing';
import {
  createMetricsRegistry,
  HealthChecks,
  natsHealthCheck,
  Publisher,
  type PublisherOptions,
} from '@telly/runtime';
import { buildHttpBridge, type HttpBridge, type HttpBridgeOptions, type MetricsRegistry } from '../app.ts';

/** A listening bridge under test. */
export interface TestBridge {
  app: HttpBridge;
  /** `http://127.0.0.1:<port>` (or `https://localhost:<port>` with TLS). */
  url: string;
  metrics: MetricsRegistry;
  /** The bridge's own credentials cache (to wait until it sees a change). */
  credentials: CredentialsCache;
  close(): Promise<void>;
}

/**
 * Builds and starts an HTTP bridge on 127.0.0.1 and a free port, with its own credentials cache,
 * Ingest, metrics registry and health checks (so `/metrics` shows what this bridge counted).
 */
export async function startTestBridge(
  stack: BridgeTestStack,
  options: { rateLimiter?: RateLimiter; publisher?: PublisherOptions; tls?: HttpBridgeOptions['tls'] } = {},
): Promise<TestBridge> {
  const credentials = await CredentialsCache.open(stack.credentialsKv);
  const metrics = createMetricsRegistry('http-bridge-test');
  const ingest = new Ingest({
    protocol: 'http',
    credentials,
    publisher: new Publisher(jetstream(stack.nc), options.publisher),
    metrics: bridgeMetrics(metrics),
    logger: stack.logger,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
  });
  const health = new HealthChecks()
    .add('nats', natsHealthCheck(stack.nc))
    .add('credentials', credentials.healthCheck());
  const app = buildHttpBridge({
    ingest,
    logger: stack.logger,
    metricsRegistry: metrics,
    health,
    tls: options.tls,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    url: options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    metrics,
    credentials,
    async close() {
      await app.close();
      credentials.close();
    },
  };
}
