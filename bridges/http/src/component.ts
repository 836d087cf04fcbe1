import { openDeviceGateway, RateLimiter } from '@telly/bridge-core';
import { defineComponent, readTlsFiles } from '@telly/runtime';
import { buildHttpBridge } from './app.ts';
import { parseHttpConfig } from './config.ts';

/**
 * The HTTP bridge: watches the `credentials` bucket and serves devices on `TELLY_HTTP_PORT`
 * (HTTPS with `TELLY_HTTP_TLS_CERT` and `TELLY_HTTP_TLS_KEY`). Stopping drains in-flight
 * requests before NATS is drained.
 */
export const component = defineComponent({
  name: 'http',
  config: parseHttpConfig,
  async start({ config, nc, logger, metrics, health, endpoint, onStop }) {
    const tls = config.tls && (await readTlsFiles(config.tls, 'TELLY_HTTP_TLS_CERT', 'TELLY_HTTP_TLS_KEY'));
    const rateLimiter = RateLimiter.of(config.rateLimit);
    const gateway = await openDeviceGateway({
      nc,
      protocol: 'http',
      logger,
      metrics,
      health,
      rateLimiter,
      accept: config.accept,
    });
    onStop(() => gateway.close());
    const app = buildHttpBridge({ ingest: gateway.ingest, logger, metricsRegistry: metrics, health, tls });
    await app.listen({ port: config.port, host: config.host });
    onStop(() => app.close());
    const { port } = app.server.address() as { port: number };
    endpoint('HTTP devices', `${tls ? 'https' : 'http'}://127.0.0.1:${port}/channels/{channel}/messages`);
    logger.info({ addresses: app.addresses(), tls: Boolean(tls) }, 'HTTP bridge listening');
  },
});
