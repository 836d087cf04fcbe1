export { component } from './component.ts';
export { migrateTelemetry, TELEMETRY_TABLES } from './migrations.ts';
export { Partitions, partitionOf } from './partitions.ts';
export { pointRow } from './point-row.ts';
export { TELEMETRY_PG, telemetryProjection } from './projection.ts';
export type { Aggregate, PointRow, TelemetryFilter } from './queries.ts';
export { AGGREGATES, MAX_BUCKETS, MAX_POINTS, parseEvery, rollupFor, TelemetryQueries } from './queries.ts';
export { writePoints } from './write.ts';
