import { Counter, Gauge, type Registry } from 'prom-client';

/** The Kafka bridge's own metrics (besides the bridge and processor metrics it shares). */
export interface KafkaMetrics {
  records: Counter<'source' | 'outcome'>;
  unknownThings: Counter<'source'>;
  sourceLag: Gauge<'source'>;
  sent: Counter<'sink' | 'stream'>;
}

export function kafkaMetrics(registry: Registry): KafkaMetrics {
  return {
    records: new Counter({
      name: 'telly_kafka_source_records_total',
      help: 'Records of a Kafka source by outcome: stored (in the log), refused (to the rejections topic), retried',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    }),
    unknownThings: new Counter({
      name: 'telly_kafka_source_unknown_things_total',
      help: "Records of a Kafka source naming no thing of the source's tenant",
      labelNames: ['source'],
      registers: [registry],
    }),
    sourceLag: new Gauge({
      name: 'telly_kafka_source_lag',
      help: "Records of a source's topic behind its committed offsets (refreshed every 5 s)",
      labelNames: ['source'],
      registers: [registry],
    }),
    sent: new Counter({
      name: 'telly_kafka_sink_records_total',
      help: 'Log entries a Kafka sink wrote to Kafka (acknowledged), by stream',
      labelNames: ['sink', 'stream'],
      registers: [registry],
    }),
  };
}
