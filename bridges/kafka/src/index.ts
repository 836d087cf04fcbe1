export type { KafkaBridgeOptions } from './bridge.ts';
export { KafkaBridge } from './bridge.ts';
export type { CatalogListener, KafkaSink, KafkaSource } from './catalog.ts';
export { followCatalog, kafkaCatalogFilter } from './catalog.ts';
export type { InBatch, InConsumer, InRecord, KafkaClient, OutRecord } from './client.ts';
export { kafkaClient, kafkajsConfig } from './client.ts';
export { component } from './component.ts';
export type { KafkaBridgeConfig, KafkaConnection, SaslMechanism } from './config.ts';
export {
  DEFAULT_CLIENT_ID,
  DEFAULT_REJECTIONS_TOPIC,
  kafkaConfigured,
  parseBrokers,
  parseKafkaConfig,
  parseKafkaConnection,
  SASL_MECHANISMS,
} from './config.ts';
export type { KafkaMetrics } from './metrics.ts';
export { kafkaMetrics } from './metrics.ts';
export { SINK_HEADERS, sinkProcessorName, sinkProcessors, sinkRecord } from './sink.ts';
export type { RunningSource, SourceDeps } from './source.ts';
export {
  DEFAULT_THING_HEADER,
  REJECTION_HEADERS,
  recordMessageId,
  runSource,
  sourceGroupId,
} from './source.ts';
export type { IndexedThing } from './thing-index.ts';
export { ThingIndex } from './thing-index.ts';
