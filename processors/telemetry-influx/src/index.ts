export { component } from './component.ts';
export type { InfluxConfig } from './config.ts';
export { DEFAULT_INFLUX_BUCKET, DEFAULT_INFLUX_ORG, influxConfigured, parseInfluxConfig } from './config.ts';
export {
  INFLUX_FIELDS,
  INFLUX_MEASUREMENT,
  INFLUX_PRECISION,
  INFLUX_TAGS,
  telemetryLine,
  toInfluxPoint,
} from './mapping.ts';
export type { InfluxProjection, InfluxProjectionOptions } from './projection.ts';
export { DEFAULT_INFLUX_BATCH, influxProjection, TELEMETRY_INFLUX } from './projection.ts';
export type { InfluxWriterOptions } from './writer.ts';
export {
  chunkLines,
  DEFAULT_INFLUX_WRITER,
  InfluxRejectedError,
  InfluxUnavailableError,
  InfluxWriter,
} from './writer.ts';
