import { defineComponent } from '@telly/runtime';
import { parseInfluxConfig } from './config.ts';
import { influxProjection, TELEMETRY_INFLUX } from './projection.ts';

/**
 * The InfluxDB projection (`telly up` registers it only when `INFLUX_URL` is set): NATS only, no
 * Postgres, plus an `influx` check (did the sink take the last write). On stop a batch held by
 * an unavailable sink is handed back before the processor drains.
 */
export const component = defineComponent({
  name: TELEMETRY_INFLUX,
  config: parseInfluxConfig,
  async start({ config, health, logger, run, onStop }) {
    const projection = influxProjection(config);
    health.add('influx', () => projection.writer.health());
    await run(projection);
    onStop(() => projection.abort()); // runs before the processor's own stop
    logger.info(
      { url: config.url, org: config.org, bucket: config.bucket },
      'projecting MESSAGES to InfluxDB',
    );
  },
});
