import { connectNats, defineComponent } from '@telly/runtime';
import { startMqttBridge } from './bridge.ts';
import { parseMqttConfig } from './config.ts';

/** The MQTT bridge as a `telly up` component. */
export const component = defineComponent({
  name: 'mqtt',
  async start(ctx) {
    const config = parseMqttConfig(ctx.env);
    const nc = await connectNats(config.natsUrl, 'bridge-mqtt');
    const bridge = await startMqttBridge({ nc, logger: ctx.logger, metrics: ctx.metrics, config });
    ctx.health.add('nats', () =>
      nc.isClosed() ? { status: 'down', detail: 'NATS connection closed' } : { status: 'up' },
    );
    return {
      async stop() {
        await bridge.close();
        await nc.drain();
      },
    };
  },
});
