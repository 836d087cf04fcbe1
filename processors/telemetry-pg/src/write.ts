import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TelemetryPoint } from '@telly/schemas';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { LIVE_TABLES, type TelemetryTables } from './tables.ts';

/**
 * A Postgres refusal of the data itself: a data exception (class 22: a value out of range, a
 * character it cannot hold) or a row beyond a limit (54000, e.g. an index entry too large). The
 * same rows fail again however often they are retried.
 */
export function isUnstorableRowError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '54000');
}

/** Position of a point in the log, for FIRST/LAST ties: seq, then index in the pack. */
export const orderOf = (p: Pick<TelemetryPoint, 'seq' | 'index'>) => p.seq * 100_000 + p.index;

/** Per connection, the batch being written: points are sent once and read by every statement. */
const BATCH_TABLE = 'telly_batch_points';

/**
 * Writes a batch of points inside the caller's transaction: the points are COPY'd once into a
 * temporary table (emptied at commit), from which one statement per table writes the raw rows,
 * the latest value per thing and name, and the rollups, merged incrementally so late and
 * out-of-order points land in the right bucket.
 */
export async function writePoints(
  db: pg.PoolClient,
  points: readonly TelemetryPoint[],
  tables: TelemetryTables = LIVE_TABLES,
): Promise<void> {
  if (points.length === 0) return;
  await db.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${BATCH_TABLE} (LIKE ${LIVE_TABLES.raw}) ON COMMIT DELETE ROWS`,
  );
  await copyInto(db, BATCH_TABLE, points);
  await db.query(`INSERT INTO ${tables.raw} (${RAW_COLUMNS}) SELECT ${RAW_COLUMNS} FROM ${BATCH_TABLE}`);
  await mergeDerived(db, tables, `${BATCH_TABLE} AS p`);
}

const RAW_COLUMNS =
  'tenant_id, channel_id, thing_id, subtopic, name, unit, time, value, string_value, bool_value, data_value, sum, seq, idx';

/** A value in COPY's text format: `\N` for null, the four special characters escaped. */
function copyText(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value !== 'string') return String(value);
  return value.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}

/**
 * Raw rows only, streamed with COPY: the bulk of a replay, whose latest values and rollups are
 * derived afterwards ({@link deriveFromRaw}). Inside the caller's transaction.
 */
export async function copyPoints(
  db: pg.PoolClient,
  points: readonly TelemetryPoint[],
  tables: TelemetryTables,
): Promise<void> {
  await copyInto(db, tables.raw, points);
}

/** Streams points into `table` (raw-row columns) with COPY. */
async function copyInto(db: pg.PoolClient, table: string, points: readonly TelemetryPoint[]): Promise<void> {
  if (points.length === 0) return;
  function* lines() {
    const rows: string[] = [];
    for (const p of points) {
      rows.push(
        [
          p.tenantId,
          p.channelId,
          p.thingId,
          copyText(p.subtopic),
          copyText(p.name),
          copyText(p.unit),
          new Date(p.timeMs).toISOString(),
          copyText(p.value),
          copyText(p.stringValue),
          copyText(p.boolValue),
          copyText(p.dataValue),
          copyText(p.sum),
          p.seq,
          p.index,
        ].join('\t'),
      );
      if (rows.length === 1_000) yield `${rows.splice(0).join('\n')}\n`;
    }
    if (rows.length > 0) yield `${rows.join('\n')}\n`;
  }
  await pipeline(Readable.from(lines()), db.query(copyFrom(`COPY ${table} (${RAW_COLUMNS}) FROM STDIN`)));
}

/**
 * Latest values and rollups computed from a whole raw table (or from one thing's rows in it), as
 * a bulk replay's last step: one statement per table, run side by side on their own connections
 * (the tables are not live yet).
 */
export async function deriveFromRaw(
  pool: pg.Pool,
  tables: TelemetryTables,
  only?: { thingId: string },
): Promise<void> {
  const params = only === undefined ? [] : [only.thingId];
  const source =
    only === undefined ? `${tables.raw} AS p` : `(SELECT * FROM ${tables.raw} WHERE thing_id = $1) AS p`;
  await Promise.all([
    pool.query(latestStatement(tables, source), params),
    ...tables.rollups.map(({ table, unit }) =>
      pool.query(mergeRollup(table, rollupOfPoints(unit, source)), params),
    ),
  ]);
}

/** Merges the points of `source` (a FROM item aliased p) into the latest values and the rollups. */
async function mergeDerived(db: pg.PoolClient, tables: TelemetryTables, source: string): Promise<void> {
  await db.query(latestStatement(tables, source));
  for (const { table, unit } of tables.rollups)
    await db.query(mergeRollup(table, rollupOfPoints(unit, source)));
}

/** Merges the newest point per thing and name of `source` into the latest values. */
function latestStatement(tables: TelemetryTables, source: string): string {
  return `INSERT INTO ${tables.latest} AS l
     SELECT DISTINCT ON (thing_id, name) tenant_id, thing_id, name, channel_id, subtopic, unit, time, value,
       string_value, bool_value, data_value, sum, seq, idx
     FROM ${source} ORDER BY thing_id, name, time DESC, seq DESC, idx DESC
     ON CONFLICT (thing_id, name) DO UPDATE SET channel_id = EXCLUDED.channel_id, subtopic = EXCLUDED.subtopic,
       unit = EXCLUDED.unit, time = EXCLUDED.time, value = EXCLUDED.value, string_value = EXCLUDED.string_value,
       bool_value = EXCLUDED.bool_value, data_value = EXCLUDED.data_value, sum = EXCLUDED.sum,
       seq = EXCLUDED.seq, idx = EXCLUDED.idx
     WHERE (EXCLUDED.time, EXCLUDED.seq, EXCLUDED.idx) > (l.time, l.seq, l.idx)`;
}

/**
 * One rollup row per series and `unit` bucket of the numeric points of `source`. FIRST and LAST
 * come from one ordering (time, seq, idx), first and last element, so a group is sorted once.
 */
function rollupOfPoints(unit: 'minute' | 'hour', source: string): string {
  return `SELECT tenant_id, thing_id, channel_id, name, date_trunc('${unit}', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
       count(*), sum(value), min(value), max(value),
       (array_agg(time ORDER BY time, seq, idx))[1], (array_agg(seq * 100000 + idx ORDER BY time, seq, idx))[1],
       (array_agg(value ORDER BY time, seq, idx))[1],
       (array_agg(time ORDER BY time, seq, idx))[count(*)],
       (array_agg(seq * 100000 + idx ORDER BY time, seq, idx))[count(*)],
       (array_agg(value ORDER BY time, seq, idx))[count(*)]
     FROM ${source} WHERE value IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5`;
}

/** Merges the rows `select` gives into rollup `table`: counts and sums add, FIRST/LAST by order. */
function mergeRollup(table: string, select: string): string {
  return `INSERT INTO ${table} AS r
       ${select}
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
         last_value = CASE WHEN (EXCLUDED.last_time, EXCLUDED.last_order) > (r.last_time, r.last_order) THEN EXCLUDED.last_value ELSE r.last_value END`;
}
