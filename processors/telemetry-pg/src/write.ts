import type { TelemetryPoint } from '@telly/schemas';
import type pg from 'pg';

/** Position of a point in the log, for FIRST/LAST ties: seq, then index in the pack. */
export const orderOf = (p: Pick<TelemetryPoint, 'seq' | 'index'>) => p.seq * 100_000 + p.index;

const ROLLUPS = [
  { table: 'telemetry_rollup_1m', unit: 'minute' },
  { table: 'telemetry_rollup_1h', unit: 'hour' },
] as const;

/**
 * Writes a batch of points in one statement per table (arrays unnested server-side), inside the
 * caller's transaction: raw rows, the latest value per thing and name, and the rollups, which
 * are merged incrementally so late and out-of-order points land in the right bucket.
 */
export async function writePoints(db: pg.PoolClient, points: readonly TelemetryPoint[]): Promise<void> {
  if (points.length === 0) return;
  const col = <T>(f: (p: TelemetryPoint) => T) => points.map(f);
  const params = [
    col((p) => p.tenantId),
    col((p) => p.channelId),
    col((p) => p.thingId),
    col((p) => p.subtopic),
    col((p) => p.name),
    col((p) => p.unit ?? null),
    col((p) => new Date(p.timeMs).toISOString()),
    col((p) => p.value ?? null),
    col((p) => p.stringValue ?? null),
    col((p) => p.boolValue ?? null),
    col((p) => p.dataValue ?? null),
    col((p) => p.sum ?? null),
    col((p) => p.seq),
    col((p) => p.index),
  ];
  const unnest = `unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
    $8::float8[], $9::text[], $10::bool[], $11::text[], $12::float8[], $13::bigint[], $14::int[])
    AS p(tenant_id, channel_id, thing_id, subtopic, name, unit, time, value, string_value, bool_value, data_value, sum, seq, idx)`;
  await db.query(`INSERT INTO telemetry SELECT * FROM ${unnest}`, params);
  await db.query(
    `INSERT INTO telemetry_latest AS l
     SELECT DISTINCT ON (thing_id, name) tenant_id, thing_id, name, channel_id, subtopic, unit, time, value,
       string_value, bool_value, data_value, sum, seq, idx
     FROM ${unnest} ORDER BY thing_id, name, time DESC, seq DESC, idx DESC
     ON CONFLICT (thing_id, name) DO UPDATE SET channel_id = EXCLUDED.channel_id, subtopic = EXCLUDED.subtopic,
       unit = EXCLUDED.unit, time = EXCLUDED.time, value = EXCLUDED.value, string_value = EXCLUDED.string_value,
       bool_value = EXCLUDED.bool_value, data_value = EXCLUDED.data_value, sum = EXCLUDED.sum,
       seq = EXCLUDED.seq, idx = EXCLUDED.idx
     WHERE (EXCLUDED.time, EXCLUDED.seq, EXCLUDED.idx) > (l.time, l.seq, l.idx)`,
    params,
  );
  for (const { table, unit } of ROLLUPS) {
    await db.query(
      `INSERT INTO ${table} AS r
       SELECT tenant_id, thing_id, channel_id, name, date_trunc('${unit}', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
         count(*), sum(value), min(value), max(value),
         (array_agg(time ORDER BY time, seq, idx))[1], (array_agg(seq * 100000 + idx ORDER BY time, seq, idx))[1],
         (array_agg(value ORDER BY time, seq, idx))[1],
         (array_agg(time ORDER BY time DESC, seq DESC, idx DESC))[1],
         (array_agg(seq * 100000 + idx ORDER BY time DESC, seq DESC, idx DESC))[1],
         (array_agg(value ORDER BY time DESC, seq DESC, idx DESC))[1]
       FROM ${unnest} WHERE value IS NOT NULL
       GROUP BY tenant_id, thing_id, channel_id, name, bucket
       ON CONFLICT (thing_id, name, channel_id, bucket) DO UPDATE SET
         count = r.count + EXCLUDED.count,
         sum = r.sum + EXCLUDED.sum,
         min = LEAST(r.min, EXCLUDED.min),
         max = GREATEST(r.max, EXCLUDED.max),
         first_time = CASE WHEN (EXCLUDED.first_time, EXCLUDED.first_order) < (r.first_time, r.first_order) THEN EXCLUDED.first_time ELSE r.first_time END,
         first_order = CASE WHEN (EXCLUDED.first_time, EXCLUDED.first_order) < (r.first_time, r.first_order) THEN EXCLUDED.first_order ELSE r.first_order END,
         first_value = CASE WHEN (EXCLUDED.first_time, EXCLUDED.first_order) < (r.first_time, r.first_order) THEN EXCLUDED.first_value ELSE r.first_value END,
         last_time = CASE WHEN (EXCLUDED.last_time, EXCLUDED.last_order) > (r.last_time, r.last_order) THEN EXCLUDED.last_time ELSE r.last_time END,
         last_order = CASE WHEN (EXCLUDED.last_time, EXCLUDED.last_order) > (r.last_time, r.last_order) THEN EXCLUDED.last_order ELSE r.last_order END,
         last_value = CASE WHEN (EXCLUDED.last_time, EXCLUDED.last_order) > (r.last_time, r.last_order) THEN EXCLUDED.last_value ELSE r.last_value END`,
      params,
    );
  }
}
