import type pg from 'pg';
import { initialSeriesState, type SeriesState } from './domain/types.ts';

/** A series: one rule over one measurement of one thing. */
export interface SeriesKey {
  ruleId: string;
  thingId: string;
  name: string;
}

export const seriesKey = (k: SeriesKey) => `${k.ruleId}\u0000${k.thingId}\u0000${k.name}`;

/**
 * The evaluator's state and timers in Postgres, read and written in the caller's transaction
 * (the processor's checkpoint transaction, or a timer's), rows locked while they are decided on.
 */
export async function loadSeries(db: pg.PoolClient, keys: SeriesKey[]): Promise<Map<string, SeriesState>> {
  const states = new Map<string, SeriesState>();
  if (keys.length === 0) return states;
  const { rows } = await db.query<{ rule_id: string; thing_id: string; name: string; state: SeriesState }>(
    `SELECT s.rule_id, s.thing_id, s.name, s.state FROM rule_series s
     JOIN jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text)
       ON s.rule_id = k."ruleId" AND s.thing_id = k."thingId" AND s.name = k.name
     ORDER BY s.rule_id, s.thing_id, s.name
     FOR UPDATE OF s`,
    [JSON.stringify(keys)],
  );
  for (const row of rows) {
    states.set(seriesKey({ ruleId: row.rule_id, thingId: row.thing_id, name: row.name }), {
      ...initialSeriesState(),
      ...row.state,
    });
  }
  return states;
}

export interface SeriesWrite extends SeriesKey {
  tenantId: string;
  state: SeriesState;
  /** The series' timer afterwards (ms), or none. */
  timer: number | null;
}

export async function saveSeries(db: pg.PoolClient, writes: SeriesWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const rows = JSON.stringify(
    writes.map((w) => ({
      ruleId: w.ruleId,
      thingId: w.thingId,
      name: w.name,
      tenantId: w.tenantId,
      state: w.state,
    })),
  );
  await db.query(
    `INSERT INTO rule_series (rule_id, thing_id, name, tenant_id, state)
     SELECT "ruleId", "thingId", name, "tenantId", state
     FROM jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text, "tenantId" uuid, state jsonb)
     ON CONFLICT (rule_id, thing_id, name) DO UPDATE SET state = EXCLUDED.state`,
    [rows],
  );
  const timers = writes.map((w) => ({
    ruleId: w.ruleId,
    thingId: w.thingId,
    name: w.name,
    due: w.timer === null ? null : new Date(w.timer).toISOString(),
  }));
  await db.query(
    `DELETE FROM rule_timers t USING jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text, due timestamptz)
     WHERE t.rule_id = k."ruleId" AND t.thing_id = k."thingId" AND t.name = k.name AND k.due IS NULL`,
    [JSON.stringify(timers)],
  );
  await db.query(
    `INSERT INTO rule_timers (rule_id, thing_id, name, due_at)
     SELECT "ruleId", "thingId", name, due
     FROM jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text, due timestamptz)
     WHERE due IS NOT NULL
     ON CONFLICT (rule_id, thing_id, name) DO UPDATE SET due_at = EXCLUDED.due_at`,
    [JSON.stringify(timers)],
  );
}
