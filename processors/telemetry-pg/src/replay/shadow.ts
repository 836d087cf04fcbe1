import { withTransaction } from '@telly/runtime';
import type pg from 'pg';
import type { Partitions } from '../partitions.ts';
import { LIVE_TABLES, type TelemetryTables, tablesOf, telemetryDdl, telemetryTables } from '../tables.ts';

/** The fresh set a replay builds beside the live one. */
export const SHADOW = telemetryTables('telemetry_next');
/** The live set, renamed away during the swap. */
const OLD = telemetryTables('telemetry_old');

/**
 * Empty tables of the same shape as the live ones, but for the raw table's indexes, created after
 * the bulk (a leftover of an interrupted replay goes).
 */
export async function createShadow(pool: pg.Pool): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(`DROP TABLE IF EXISTS ${tablesOf(SHADOW).join(', ')} CASCADE`);
    await client.query(telemetryDdl(SHADOW, { rawIndexes: false }));
  });
}

/** Rows of messages before `fromSeq`, carried into the new tables unchanged. */
export async function copyKept(pool: pg.Pool, partitions: Partitions, fromSeq: number): Promise<number> {
  if (fromSeq <= 1 || !(await exists(pool, LIVE_TABLES.raw))) return 0;
  const { rows: months } = await pool.query<{ month: Date }>(
    `SELECT DISTINCT date_trunc('month', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month
       FROM ${LIVE_TABLES.raw} WHERE seq < $1`,
    [fromSeq],
  );
  await partitions.ensure(
    pool,
    months.map((m) => m.month.getTime()),
  );
  const result = await pool.query(
    `INSERT INTO ${SHADOW.raw} SELECT * FROM ${LIVE_TABLES.raw} WHERE seq < $1`,
    [fromSeq],
  );
  return result.rowCount ?? 0;
}

/**
 * Live → old, new → live, old dropped. Partitions and indexes are renamed with their tables, so
 * names keep following the months and the next replay's fresh set does not collide.
 */
export async function swapTables(client: pg.PoolClient): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${tablesOf(OLD).join(', ')} CASCADE`);
  await renameSet(client, LIVE_TABLES, OLD);
  await renameSet(client, SHADOW, LIVE_TABLES);
  await client.query(`DROP TABLE IF EXISTS ${tablesOf(OLD).join(', ')} CASCADE`);
}

/** Renames a set's tables, partitions and indexes from one prefix to another (missing ones skipped). */
async function renameSet(client: pg.PoolClient, from: TelemetryTables, to: TelemetryTables): Promise<void> {
  const renamed = (name: string) => `${to.prefix}${name.slice(from.prefix.length)}`;
  const { rows } = await client.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i', 'I')
        AND (c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass($1))
             OR c.relname = ANY($2::text[])
             OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(
                  SELECT to_regclass(t) FROM unnest($2::text[]) AS t)))`,
    [from.raw, tablesOf(from)],
  );
  for (const { name, kind } of rows) {
    if (!name.startsWith(`${from.prefix}_`) && name !== from.prefix) continue;
    const what = kind === 'i' || kind === 'I' ? 'INDEX' : 'TABLE';
    await client.query(`ALTER ${what} ${name} RENAME TO ${renamed(name)}`);
  }
}

async function exists(db: pg.Pool | pg.PoolClient, table: string): Promise<boolean> {
  const { rows } = await db.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [table]);
  return rows[0]?.oid != null;
}
