export {
  cacheDir,
  findNatsServer,
  findSystemBinary,
  MIN_NATS_SERVER_VERSION,
  MissingBinaryError,
  natsServerVersion,
} from './binaries.ts';
export { freePort } from './free-port.ts';
export type { InfluxdBinary, InfluxdOptions } from './influxd.ts';
export { findInfluxd, INFLUXD_START_TIMEOUT_MS, INFLUXD_VERSION, Influxd } from './influxd.ts';
export type { KafkaBrokerOptions } from './kafka.ts';
export { findKafkaLib, KAFKA_START_TIMEOUT_MS, KAFKA_VERSION, KafkaBroker } from './kafka.ts';
export type { ManagedProcessOptions } from './managed-process.ts';
export { DEFAULT_STOP_TIMEOUT_MS, ManagedProcess } from './managed-process.ts';
export type { NatsClusterOptions } from './nats-cluster.ts';
export { NatsCluster } from './nats-cluster.ts';
export type { NatsServerOptions } from './nats-server.ts';
export { NATS_START_TIMEOUT_MS, NatsServer } from './nats-server.ts';
export type { PostgresOptions, TestDatabase } from './postgres.ts';
export {
  DEFAULT_POSTGRES_USER,
  isPostgresAccessError,
  POSTGRES_START_TIMEOUT_MS,
  PostgresAccessError,
  PostgresServer,
  startTestDatabase,
} from './postgres.ts';
export type { CapturedMail } from './smtp-server.ts';
export { SmtpCapture } from './smtp-server.ts';
export { eventStreamData } from './sse.ts';
export type { NatsAndPostgres, NatsAndPostgresOptions, StopFn } from './test-stack.ts';
export { startNatsAndPostgres } from './test-stack.ts';
export type { VictoriaMetricsOptions } from './victoria-metrics.ts';
export { VictoriaMetrics } from './victoria-metrics.ts';
export type { WaitOptions } from './wait.ts';
export { httpOk, WaitTimeoutError, waitFor } from './wait.ts';
export type { ReceivedHook } from './webhook-receiver.ts';
export { WebhookReceiver } from './webhook-receiver.ts';
