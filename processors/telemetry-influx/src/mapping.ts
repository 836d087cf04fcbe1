import { Point, type WritePrecisionType } from '@influxdata/influxdb-client';
import type { TelemetryPoint } from '@telly/schemas';

/** The one measurement every telemetry point is written to. */
export const INFLUX_MEASUREMENT = 'telemetry';

/** Timestamp precision of the written lines (and of the write API that sends them). */
export const INFLUX_PRECISION: WritePrecisionType = 'ms';

/** Tag keys, by the {@link TelemetryPoint} property they come from. */
export const INFLUX_TAGS = {
  tenantId: 'tenant',
  channelId: 'channel',
  thingId: 'thing',
  name: 'name',
  subtopic: 'subtopic',
  unit: 'unit',
} as const;

/** Field keys, by the {@link TelemetryPoint} property they come from. */
export const INFLUX_FIELDS = {
  value: 'value',
  stringValue: 'string_value',
  boolValue: 'bool_value',
  dataValue: 'data_value',
  sum: 'sum',
} as const;

/** Line protocol cannot end a tag value with a backslash (it would escape the separator). */
function tagValue(value: string): string {
  return value.replace(/\\+$/, '');
}

/**
 * A telemetry point as an InfluxDB point. The mapping:
 *
 * | Line protocol  | Kind        | Type    | From                                         | Written |
 * | -------------- | ----------- | ------- | -------------------------------------------- | ------- |
 * | `telemetry`    | measurement |         |                                              |         |
 * | `tenant`       | tag         |         | subject `msg.<tenant>.…`                     | always  |
 * | `channel`      | tag         |         | subject `msg.<t>.<channel>.…`                | always  |
 * | `thing`        | tag         |         | subject `msg.<t>.<c>.<thing>`                | always  |
 * | `name`         | tag         |         | SenML `n` (resolved: `bn` + `n`)             | always  |
 * | `subtopic`     | tag         |         | subject levels after the thing, `/`-joined   | if any  |
 * | `unit`         | tag         |         | SenML `u` (or `bu`)                          | if set  |
 * | `value`        | field       | float   | SenML `v` (+ `bv`)                           | if set  |
 * | `string_value` | field       | string  | SenML `vs`                                   | if set  |
 * | `bool_value`   | field       | boolean | SenML `vb`                                   | if set  |
 * | `data_value`   | field       | string  | SenML `vd` (base64url)                       | if set  |
 * | `sum`          | field       | float   | SenML `s` (+ `bs`)                           | if set  |
 * | timestamp      | time        | ms      | SenML `t` (+ `bt`, relative: Telly-Received) | always  |
 *
 * Escaping of spaces, commas and `=` in tag values (a unit such as `kg m/s`) and of quotes and
 * backslashes in string fields is the client's `Point`. Trailing backslashes of a tag value are
 * dropped (line protocol cannot express them); an empty subtopic or unit is no tag at all.
 *
 * A point's identity in InfluxDB is its series (measurement + tag set) and timestamp: two records
 * with the same thing, channel, subtopic, name, unit and millisecond — in one message or in
 * two — are one point, last write wins (fields are merged, a field written again is replaced).
 * The log's sequence is deliberately neither a tag (one series per message) nor a field, so a
 * redelivered or replayed message writes the same point again: the projection is idempotent.
 */
export function toInfluxPoint(point: TelemetryPoint): Point {
  const p = new Point(INFLUX_MEASUREMENT)
    .tag(INFLUX_TAGS.tenantId, tagValue(point.tenantId))
    .tag(INFLUX_TAGS.channelId, tagValue(point.channelId))
    .tag(INFLUX_TAGS.thingId, tagValue(point.thingId))
    .tag(INFLUX_TAGS.name, tagValue(point.name));
  const subtopic = tagValue(point.subtopic);
  if (subtopic !== '') p.tag(INFLUX_TAGS.subtopic, subtopic);
  const unit = point.unit === undefined ? '' : tagValue(point.unit);
  if (unit !== '') p.tag(INFLUX_TAGS.unit, unit);
  if (point.value !== undefined && Number.isFinite(point.value))
    p.floatField(INFLUX_FIELDS.value, point.value);
  if (point.stringValue !== undefined) p.stringField(INFLUX_FIELDS.stringValue, point.stringValue);
  if (point.boolValue !== undefined) p.booleanField(INFLUX_FIELDS.boolValue, point.boolValue);
  if (point.dataValue !== undefined) p.stringField(INFLUX_FIELDS.dataValue, point.dataValue);
  if (point.sum !== undefined && Number.isFinite(point.sum)) p.floatField(INFLUX_FIELDS.sum, point.sum);
  return p.timestamp(point.timeMs);
}

/** Serializes timestamps as whole milliseconds ({@link INFLUX_PRECISION}). */
const MS_SETTINGS = {
  convertTime: (time: string | number | Date | undefined): string | undefined =>
    typeof time === 'number' ? String(Math.round(time)) : undefined,
};

/**
 * The line protocol of a telemetry point at ms precision, or undefined when it has no field
 * (SenML guarantees a value or a sum, so only a malformed point is dropped).
 */
export function telemetryLine(point: TelemetryPoint): string | undefined {
  return toInfluxPoint(point).toLineProtocol(MS_SETTINGS);
}
