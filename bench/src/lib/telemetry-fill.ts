// Fills the telemetry read model fast, consistently with what the projection would have
// written: raw rows with generate_series (one sample a minute per series), then per thing the
// 1-minute and 1-hour rollups and the latest values computed from those rows by the same rules
// as the projection's writePoints (FIRST/LAST by time, then log position).
import { Partitions } from '@telly/telemetry-pg';
import type pg from 'pg';

/** Samples per series: one a minute for 30 days. */
export const SAMPLES_PER_SERIES = 30 * 24 * 60;
/** The series of every filled thing: name, unit, daily mean, daily swing, noise. */
export const SERIES = [
  ['temperature', 'Cel', 22, 5, 0.5],
  ['humidity', '%RH', 60, 15, 2],
  ['soil_moisture', '%', 35, 5, 1],
] as const;
export const ROWS_PER_THING = SAMPLES_PER_SERIES * SERIES.length;

export interface FilledThing {
  tenantId: string;
  channelId: string;
  thingId: string;
  /** First stream sequence of its rows (sequences are unique across things). */
  seqBase: number;
}

/** The rows of one thing, a sample every `step` minutes. */
const insertRows = (step: number) => `INSERT INTO telemetry
  (tenant_id, channel_id, thing_id, subtopic, name, unit, time, value, seq, idx)
  SELECT $1, $2, $3, '', s.name, s.unit, g.t,
    round((s.mean + s.swing * sin(extract(epoch FROM g.t) / 86400 * 2 * pi()) + s.noise * (random() - 0.5))::numeric, 2)::float8,
    $4 + g.n, s.idx
  FROM generate_series($5::timestamptz, $6::timestamptz - interval '${step} minutes', interval '${step} minutes') WITH ORDINALITY AS g(t, n)
  CROSS JOIN (VALUES ${SERIES.map((_, i) => `($${7 + i * 5}, $${8 + i * 5}, $${9 + i * 5}::float8, $${10 + i * 5}::float8, $${11 + i * 5}::float8, ${i})`).join(', ')})
    AS s(name, unit, mean, swing, noise, idx)`;

const rollup = (table: string, unit: 'minute' | 'hour') => `INSERT INTO ${table}
  SELECT tenant_id, thing_id, channel_id, name, date_trunc('${unit}', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
    count(*), sum(value), min(value), max(value),
    (array_agg(time ORDER BY time, seq, idx))[1], (array_agg(seq * 100000 + idx ORDER BY time, seq, idx))[1],
    (array_agg(value ORDER BY time, seq, idx))[1],
    (array_agg(time ORDER BY time DESC, seq DESC, idx DESC))[1],
    (array_agg(seq * 100000 + idx ORDER BY time DESC, seq DESC, idx DESC))[1],
    (array_agg(value ORDER BY time DESC, seq DESC, idx DESC))[1]
  FROM telemetry WHERE thing_id = $1 AND value IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5`;

const LATEST = `INSERT INTO telemetry_latest
  SELECT DISTINCT ON (thing_id, name) tenant_id, thing_id, name, channel_id, subtopic, unit, time, value,
    string_value, bool_value, data_value, sum, seq, idx
  FROM telemetry WHERE thing_id = $1 ORDER BY thing_id, name, time DESC, seq DESC, idx DESC`;

/** How much {@link fillThing} writes: `days` ending at its `to`, a sample every `stepMinutes`. */
export interface FillSpan {
  /** @default 30 */
  days?: number;
  /** @default 1 */
  stepMinutes?: number;
}

/** Writes 30 days ending at `to` for one thing: rows, rollups and latest values, in one transaction. */
export async function fillThing(
  pool: pg.Pool,
  thing: FilledThing,
  to: Date,
  span: FillSpan = {},
): Promise<void> {
  const step = span.stepMinutes ?? 1;
  if (!Number.isInteger(step) || step < 1)
    throw new RangeError(`stepMinutes must be a whole number ≥ 1, got ${step}`);
  const from = new Date(
    to.getTime() - (span.days === undefined ? SAMPLES_PER_SERIES * 60_000 : span.days * 86_400_000),
  );
  // the table is partitioned by month: one time in each month of the span
  const months: number[] = [to.getTime() - 1];
  for (let t = from.getTime(); t < to.getTime(); t += 28 * 86_400_000) months.push(t);
  await new Partitions().ensure(pool, months);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(insertRows(step), [
      thing.tenantId,
      thing.channelId,
      thing.thingId,
      thing.seqBase,
      from,
      to,
      ...SERIES.flat(),
    ]);
    await client.query(rollup('telemetry_rollup_1m', 'minute'), [thing.thingId]);
    await client.query(rollup('telemetry_rollup_1h', 'hour'), [thing.thingId]);
    await client.query(LATEST, [thing.thingId]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
