import { withTransaction } from '@telly/runtime';
import type pg from 'pg';
import { telemetryMigrations } from '../migrations.ts';
import type { Partitions } from '../partitions.ts';
import { LIVE_TABLES, type TelemetryTables, tablesOf, telemetryTables } from '../tables.ts';

/** The fresh set a replay builds beside the live one. */
export const SHADOW = telemetryTables('telemetry_next');
/** The live set, renamed away during the swap. */
const OLD = telemetryTables('telemetry_old');

/**
 * Empty tables of the same shape as the live ones, but for the raw table's indexes, which a bulk
 * load creates after the rows are in (a leftover of an interrupted replay goes). Returns those
 * index statements.
 */
export function createShadow(pool: pg.Pool): Promise<string[]> {
  return createTelemetryTables(pool, SHADOW, { deferRawIndexes: true });
}

/**
 * Creates a set of tables (replacing any of that name) shaped as the telemetry migrations shape
 * the live set: the frozen migrations are applied into a scratch schema, inside this
 * transaction and dropped before it ends, and each table is created LIKE its counterpart there,
 * with the same partition key, constraints and indexes under the set's prefix. So the DDL is
 * only in the migrations, and a replay works even when the live tables are gone. Returns the
 * raw table's index statements when they are deferred, else none.
 */
export async function createTelemetryTables(
  pool: pg.Pool,
  to: TelemetryTables,
  options: { deferRawIndexes?: boolean } = {},
): Promise<string[]> {
  const scratch = `telly_shape_${to.prefix}`;
  const renamed = (name: string) => {
    if (!name.startsWith(LIVE_TABLES.prefix)) throw new Error(`${name} is not a telemetry table or index`);
    return `${to.prefix}${name.slice(LIVE_TABLES.prefix.length)}`;
  };
  return withTransaction(pool, async (client) => {
    await client.query(`DROP TABLE IF EXISTS ${tablesOf(to).join(', ')} CASCADE`);
    const { rows: path } = await client.query<{ path: string }>(
      `SELECT current_setting('search_path') AS path`,
    );
    await client.query(`DROP SCHEMA IF EXISTS ${scratch} CASCADE; CREATE SCHEMA ${scratch}`);
    await client.query(`SET LOCAL search_path TO ${scratch}`);
    for (const key of Object.keys(telemetryMigrations.texts).sort()) {
      await client.query(telemetryMigrations.texts[key] as string);
    }
    await client.query(`SELECT set_config('search_path', $1, true)`, [path[0]?.path]);
    const deferred: string[] = [];
    for (const table of tablesOf(LIVE_TABLES)) {
      const template = `${scratch}.${table}`;
      const { rows: keys } = await client.query<{ key: string | null }>(
        'SELECT pg_get_partkeydef($1::regclass) AS key',
        [template],
      );
      const partitioning = keys[0]?.key ? ` PARTITION BY ${keys[0].key}` : '';
      await client.query(
        `CREATE TABLE ${renamed(table)} (LIKE ${template} INCLUDING ALL EXCLUDING INDEXES)${partitioning}`,
      );
      // LIKE would name the copied keys and indexes after their columns: they keep their names
      const { rows: constraints } = await client.query<{ name: string; def: string }>(
        `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'x') ORDER BY conname`,
        [template],
      );
      for (const c of constraints) {
        await client.query(`ALTER TABLE ${renamed(table)} ADD CONSTRAINT ${renamed(c.name)} ${c.def}`);
      }
      const { rows: indexes } = await client.query<{ name: string; unique: boolean; def: string }>(
        `SELECT c.relname AS name, i.indisunique AS unique, pg_get_indexdef(c.oid) AS def
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = $1::regclass
            AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)
          ORDER BY c.relname`,
        [template],
      );
      for (const index of indexes) {
        const statement = `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${renamed(index.name)} ON ${renamed(table)}${index.def.slice(index.def.indexOf(' USING '))}`;
        if (options.deferRawIndexes && table === LIVE_TABLES.raw) deferred.push(statement);
        else await client.query(statement);
      }
    }
    await client.query(`DROP SCHEMA ${scratch} CASCADE`);
    return deferred;
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
