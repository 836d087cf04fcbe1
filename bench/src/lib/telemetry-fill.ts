// Fills the telemetry read model fast, consistently with what the projection would have
// written: raw rows with generate_series, then per thing the latest values and rollups derived
// from those rows by the projection's own bulk derivation (what a replay runs).
import { deriveFromRaw, LIVE_TABLES, Partitions } from '@telly/telemetry-pg';
import type pg from 'pg';

/** The series of every filled thing: name, unit, daily mean, daily swing, noise. */
export const SERIES = [
  ['temperature', 'Cel', 22, 5, 0.5],
  ['humidity', '%RH', 60, 15, 2],
  ['soil_moisture', '%', 35, 5, 1],
] as const;

export interface FilledThing {
  tenantId: string;
  channelId: string;
  thingId: string;
  /** First stream sequence of its rows (sequences are unique across things). */
  seqBase: number;
}

/** The rows of one thing, a sample every `step` seconds. */
const insertRows = (step: number) => `INSERT INTO telemetry
  (tenant_id, channel_id, thing_id, subtopic, name, unit, time, value, seq, idx)
  SELECT $1, $2, $3, '', s.name, s.unit, g.t,
    round((s.mean + s.swing * sin(extract(epoch FROM g.t) / 86400 * 2 * pi()) + s.noise * (random() - 0.5))::numeric, 2)::float8,
    $4 + g.n, s.idx
  FROM generate_series($5::timestamptz, $6::timestamptz - interval '${step} seconds', interval '${step} seconds') WITH ORDINALITY AS g(t, n)
  CROSS JOIN (VALUES ${SERIES.map((_, i) => `($${7 + i * 5}, $${8 + i * 5}, $${9 + i * 5}::float8, $${10 + i * 5}::float8, $${11 + i * 5}::float8, ${i})`).join(', ')})
    AS s(name, unit, mean, swing, noise, idx)`;

/** How much {@link fillThing} writes: `days` ending at its `to`, a sample every `stepSeconds`. */
export interface FillSpan {
  /** @default 30 */
  days?: number;
  /** @default 60 */
  stepSeconds?: number;
}

/**
 * Writes `days` ending at `to` for one thing: its rows, then its latest values and rollups (side
 * by side, on three of the pool's connections).
 */
export async function fillThing(
  pool: pg.Pool,
  thing: FilledThing,
  to: Date,
  span: FillSpan = {},
): Promise<void> {
  const step = span.stepSeconds ?? 60;
  if (!Number.isInteger(step) || step < 1)
    throw new RangeError(`stepSeconds must be a whole number ≥ 1, got ${step}`);
  const from = new Date(to.getTime() - (span.days ?? 30) * 86_400_000);
  // the table is partitioned by month: one time in each month of the span
  const months: number[] = [to.getTime() - 1];
  for (let t = from.getTime(); t < to.getTime(); t += 28 * 86_400_000) months.push(t);
  await new Partitions().ensure(pool, months);
  await pool.query(insertRows(step), [
    thing.tenantId,
    thing.channelId,
    thing.thingId,
    thing.seqBase,
    from,
    to,
    ...SERIES.flat(),
  ]);
  await deriveFromRaw(pool, LIVE_TABLES, { thingId: thing.thingId });
}
