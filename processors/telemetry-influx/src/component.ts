import { connectNats, defineComponent, runProcessor } from '@telly/runtime';
import { parseInfluxConfig } from './config.ts';
import { influxProjection, TELEMETRY_INFLUX } from './projection.ts';

/**
 * The InfluxDB projection as a `telly up` component (register it only when
 * `influxConfigured(env)`): connects to NATS only — no Postgres — runs the projection with the
 * component's logger, metrics and health (plus an `influx` check: did the sink take the last
 * write), and on stop hands back a batch held by an unavailable sink before draining.
 */
export const component = defineComponent({
  name: TELEMETRY_INFLUX,
  async start(ctx) {
    const config = parseInfluxConfig(ctx.env);
    const nc = await connectNats(config.natsUrl, TELEMETRY_INFLUX);
    try {
      const projection = influxProjection({
        url: config.url,
        token: config.token,
        org: config.org,
        bucket: config.bucket,
      });
      ctx.health.add('influx', () => projection.writer.health());
      const running = await runProcessor(projection, {
        nc,
        logger: ctx.logger,
        metrics: ctx.metrics,
        health: ctx.health,
      });
      ctx.logger.info(
        { url: config.url, org: config.org, bucket: config.bucket },
        'projecting MESSAGES to InfluxDB',
      );
      return {
        async stop() {
          projection.abort();
          await running.stop();
          await nc.drain();
        },
      };
    } catch (err) {
      await nc.close();
      throw err;
    }
  },
});
