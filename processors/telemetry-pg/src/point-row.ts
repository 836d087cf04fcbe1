import type { TelemetryPoint } from '@telly/schemas';
import type { PointRow } from './queries.ts';

/** A decoded point in the shape the queries return, so live and stored points read alike. */
export function pointRow(p: TelemetryPoint): PointRow {
  return {
    time: new Date(p.timeMs),
    thing_id: p.thingId,
    channel_id: p.channelId,
    subtopic: p.subtopic,
    name: p.name,
    unit: p.unit ?? null,
    value: p.value ?? null,
    string_value: p.stringValue ?? null,
    bool_value: p.boolValue ?? null,
    data_value: p.dataValue ?? null,
    sum: p.sum ?? null,
  };
}
