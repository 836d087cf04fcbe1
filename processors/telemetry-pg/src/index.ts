export { DAY_SECONDS, parseEvery, rollupFor, WEEK_SECONDS } from './buckets.ts';
export { component } from './component.ts';
export { telemetryMigrations } from './migrations.ts';
export { Partitions, partitionOf } from './partitions.ts';
export { pointRow } from './point-row.ts';
export { TELEMETRY_PG, telemetryProjection } from './projection.ts';
export type {
  Aggregate,
  AggregateOptions,
  PointOptions,
  PointRow,
  Series,
  TelemetryFilter,
} from './queries.ts';
export { AGGREGATES, MAX_BUCKETS, MAX_POINTS, TelemetryQueries } from './queries.ts';
export { createTelemetryTables } from './replay/shadow.ts';
export type { ReplayOptions, ReplayProgress, ReplayReport, ReplayTimings } from './replay.ts';
export { ReplayBusyError, replayTelemetry } from './replay.ts';
export type { TelemetryTables } from './tables.ts';
export { LIVE_TABLES, TELEMETRY_TABLES, telemetryTables } from './tables.ts';
export type { UnstorableEntry } from './unstorable.ts';
export { MAX_LISTED_UNSTORABLE } from './unstorable.ts';
export type { DayTally, Difference, VerifyOptions, VerifyReport } from './verify.ts';
export { verifyTelemetry } from './verify.ts';
export { deriveFromRaw, isUnstorableRowError, writePoints } from './write.ts';
