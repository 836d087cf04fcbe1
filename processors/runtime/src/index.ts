export type { Component, ComponentContext, RunningComponent } from './component.ts';
export { defineComponent } from './component.ts';
export { ConfigError, envEnum, envPort, envUrl, isConfigError } from './config.ts';
export type { CheckResult, HealthCheck, HealthReport } from './health.ts';
export { DEFAULT_CHECK_TIMEOUT_MS, HealthChecks } from './health.ts';
export type { Logger } from './logger.ts';
export { createLogger, DEFAULT_LOG_LEVEL } from './logger.ts';
export { createMetricsRegistry } from './metrics.ts';
export type { Migration } from './migrations.ts';
export { runMigrations } from './migrations.ts';
export { connectNats } from './nats.ts';
export type { ObservabilityHandlers } from './observability-server.ts';
export { serveObservability } from './observability-server.ts';
export { createPgPool, withTransaction } from './pg-pool.ts';
export type {
  HandlerContext,
  ProcessorDefinition,
  ProcessorMessage,
  RunningProcessor,
  RunProcessorOptions,
} from './processor/index.ts';
export {
  DEFAULT_PROCESSOR,
  DLQ_HEADERS,
  defineProcessor,
  isPermanentError,
  isUnavailableError,
  PermanentError,
  PgCheckpoint,
  retryDelayMs,
  runProcessor,
  UnavailableError,
} from './processor/index.ts';
export type { ProcessorDeps, ProcessorSetup } from './processor-component.ts';
export { processorComponent } from './processor-component.ts';
export type { PublishErrorCode } from './publish-error.ts';
export { isPublishError, PublishError, toPublishError } from './publish-error.ts';
export type { PublisherOptions, PublishOptions } from './publisher.ts';
export { DEFAULT_PUBLISHER, Publisher } from './publisher.ts';
export type { TopologyOptions, TopologyReport } from './topology.ts';
export { DEFAULT_TOPOLOGY, ensureTopology, streamConfigs } from './topology.ts';
