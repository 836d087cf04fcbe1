import { RateLimiter } from '@telly/bridge-core';
import { defineComponent } from '@telly/runtime';
import { startMqttBridge } from './bridge.ts';
import { MQTT_WS_PATH, parseMqttConfig } from './config.ts';

/** The MQTT bridge: TCP, WebSocket and (when configured) TLS listeners. */
export const component = defineComponent({
  name: 'mqtt',
  config: parseMqttConfig,
  async start({ config, nc, logger, metrics, health, endpoint, onStop }) {
    const rateLimiter = RateLimiter.of(config.rateLimit);
    const bridge = await startMqttBridge({
      nc,
      logger,
      metrics,
      health,
      config,
      rateLimiter,
      accept: config.accept,
    });
    onStop(() => bridge.close());
    endpoint('MQTT (TCP)', `mqtt://127.0.0.1:${bridge.ports.tcp}`);
    endpoint('MQTT (WebSocket)', `ws://127.0.0.1:${bridge.ports.ws}${MQTT_WS_PATH}`);
    if (bridge.ports.tls !== undefined) endpoint('MQTT (TLS)', `mqtts://127.0.0.1:${bridge.ports.tls}`);
  },
});
