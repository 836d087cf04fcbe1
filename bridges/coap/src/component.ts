import { RateLimiter } from '@telly/bridge-core';
import { defineComponent } from '@telly/runtime';
import { startCoapBridge } from './bridge.ts';
import { parseCoapConfig } from './config.ts';

/**
 * The CoAP bridge: UDP on `TELLY_COAP_PORT` (IPv4 and IPv6), device messages acknowledged only
 * once durable, observations of channels and commands. Stopping drains in-flight requests before
 * NATS is drained.
 */
export const component = defineComponent({
  name: 'coap',
  config: parseCoapConfig,
  async start({ config, nc, logger, metrics, health, endpoint, onStop }) {
    const bridge = await startCoapBridge({
      nc,
      logger,
      metrics,
      health,
      config,
      rateLimiter: RateLimiter.of(config.rateLimit),
      accept: config.accept,
    });
    onStop(() => bridge.close());
    endpoint('CoAP devices', `coap://127.0.0.1:${bridge.port}/channels/{channel}/messages`);
  },
});
