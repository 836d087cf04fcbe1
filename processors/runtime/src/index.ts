export type {
  Component,
  ComponentContext,
  ComponentSpec,
  ComponentUses,
  Endpoint,
  RunningComponent,
  StartContext,
} from './component.ts';
export { DEFAULT_POOL_SIZE, defineComponent } from './component.ts';
export type { IntegerBounds, TlsFiles } from './config.ts';
export {
  ConfigError,
  envDuration,
  envEnum,
  envInteger,
  envPort,
  envTlsFiles,
  envUrl,
  envUrlList,
  isConfigError,
  readTlsFiles,
} from './config.ts';
export type { CheckResult, HealthCheck, HealthReport, HealthStatus } from './health.ts';
export { DEFAULT_CHECK_TIMEOUT_MS, HealthChecks, worstStatus } from './health.ts';
export type { JobErrorCode } from './jobs/job-error.ts';
export { isJobError, JobError } from './jobs/job-error.ts';
export type { JobQueuePeer } from './jobs/job-peer.ts';
export { DEFAULT_JOB_REQUEST_TIMEOUT_MS } from './jobs/job-peer.ts';
export type { Job, JobListener, JobQueueOptions, JobStatus, JobWork } from './jobs/job-queue.ts';
export { DEFAULT_JOB_QUEUE, JobQueue } from './jobs/job-queue.ts';
export type { Logger } from './logger.ts';
export { createLogger, DEFAULT_LOG_LEVEL } from './logger.ts';
export type { LogReaderOptions } from './message-log.ts';
export { ackFloorOf, LogReader, logBounds, seqAt } from './message-log.ts';
export { createMetricsRegistry } from './metrics.ts';
export type { Migration, MigrationSet, SqlMigrationSet } from './migrations.ts';
export { runMigrations, runtimeMigrations, sqlMigrations } from './migrations.ts';
export { connectNats, natsHealthCheck } from './nats.ts';
export { isConsumerNotFound, isStreamNotFound, isWrongLastSequence } from './nats-errors.ts';
export type { ObservabilityHandlers } from './observability-server.ts';
export { serveObservability } from './observability-server.ts';
export type { Page, PageArgs, PageQuery } from './pg-page.ts';
export { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, MAX_PAGE_SIZE, queryPage } from './pg-page.ts';
export { createPgPool, withTransaction } from './pg-pool.ts';
export type { NatsConfig } from './platform-config.ts';
export {
  DEFAULT_BIND_ADDRESS,
  parseBindAddress,
  parseDatabaseUrl,
  parseNatsConfig,
} from './platform-config.ts';
export { PgCheckpoint } from './processor/checkpoint.ts';
export { DLQ_HEADERS } from './processor/dead-letter.ts';
export type {
  DeadLetter,
  DeadLetterDepths,
  DeadLetterErrorCode,
  DeadLetterPage,
} from './processor/dead-letter-queue.ts';
export {
  DeadLetterError,
  DeadLetterQueue,
  DLQ_DEGRADED_WINDOW_MS,
  deadLetterCheck,
  isDeadLetterError,
  MAX_DEAD_LETTERS_PAGE,
  REDRIVE_HEADERS,
  redriveTargetOf,
} from './processor/dead-letter-queue.ts';
export { DEFAULT_PROCESSOR, defineProcessor } from './processor/define.ts';
export {
  isPermanentError,
  isUnavailableError,
  PermanentError,
  UnavailableError,
} from './processor/errors.ts';
export { logEntryOf } from './processor/message.ts';
export type { RunningProcessor, RunProcessorOptions } from './processor/run.ts';
export { runProcessor } from './processor/run.ts';
export type { TelemetryBatch, TelemetryDeadLetter } from './processor/telemetry.ts';
export { telemetryBatch, telemetryPointsOf } from './processor/telemetry.ts';
export type {
  DeadLetterRequest,
  HandleOutcome,
  HandleResult,
  HandlerContext,
  ProcessorDefinition,
  ProcessorMessage,
} from './processor/types.ts';
export type { PublishErrorCode } from './publish-error.ts';
export { isPublishError, PublishError, toPublishError } from './publish-error.ts';
export type { PublisherOptions, PublishOptions } from './publisher.ts';
export { DEFAULT_PUBLISHER, Publisher } from './publisher.ts';
export type { BackoffOptions, RetryInPlaceOptions } from './retry.ts';
export { Backoff, retryInPlace, sleep } from './retry.ts';
export type { TopologyOptions, TopologyReport } from './topology.ts';
export { DEFAULT_TOPOLOGY, ensureTopology, streamConfigs } from './topology.ts';
