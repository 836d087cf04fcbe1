import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { openDeviceGateway, RateLimiter } from '@telly/bridge-core';
import { defineComponent } from '@telly/runtime';
import { KV_BUCKETS } from '@telly/schemas';
import { KafkaBridge } from './bridge.ts';
import { followCatalog } from './catalog.ts';
import { kafkaClient } from './client.ts';
import { parseKafkaConfig } from './config.ts';
import { kafkaMetrics } from './metrics.ts';
import { ThingIndex } from './thing-index.ts';

/** The Ingest's limiter for Kafka: never refuses; the sources apply the real limit by waiting. */
class NoLimit extends RateLimiter {
  override take(): number {
    return 0;
  }
}

/**
 * The Kafka bridge: every tenant's Kafka sources (topics into MESSAGES through the one ingest
 * path) and sinks (MESSAGES and EVENTS out to topics), on the deployment's brokers
 * (`TELLY_KAFKA_BROKERS`). Stopping finishes the batches in hand: sources first, then sinks.
 */
export const component = defineComponent({
  name: 'kafka',
  config: parseKafkaConfig,
  async start({ config, nc, logger, metrics, health, onStop }) {
    const gateway = await openDeviceGateway({
      nc,
      protocol: 'kafka',
      logger,
      metrics,
      health,
      rateLimiter: new NoLimit(),
      accept: config.accept,
    });
    onStop(() => gateway.close());
    const things = await ThingIndex.open(await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS));
    onStop(() => things.close());
    const client = await kafkaClient(config.kafka, logger);
    onStop(() => client.close());
    health.add('kafka', async () => ({ status: 'up', detail: await client.ping() }));
    const bridge = new KafkaBridge({
      nc,
      client,
      ingest: gateway.ingest,
      limiter: RateLimiter.of(config.rateLimit),
      things,
      rejectionsTopic: config.rejectionsTopic,
      metrics: kafkaMetrics(metrics),
      registry: metrics,
      logger,
    });
    onStop(() => bridge.stop());
    for (const [name, check] of Object.entries(bridge.healthChecks())) health.add(name, check);
    const catalog = await followCatalog(jetstream(nc), logger, bridge);
    onStop(() => catalog.stop());
    await catalog.caughtUp;
    await bridge.settled();
    logger.info(
      { sources: bridge.sources, sinks: bridge.sinks, brokers: config.kafka.brokers },
      'Kafka bridge running',
    );
  },
});
