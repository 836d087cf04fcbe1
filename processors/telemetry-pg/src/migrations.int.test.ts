import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestDatabase, type TestDatabase } from '@telly/harness';
import { createLogger, createPgPool } from '@telly/runtime';
import type pg from 'pg';
import { migrateTelemetry } from './migrations.ts';
import { LIVE_TABLES, tablesOf, telemetryDdl, telemetryTables } from './tables.ts';

let db: TestDatabase;
let pool: pg.Pool;
before(async () => {
  db = await startTestDatabase();
  pool = createPgPool({ connectionString: db.url }, createLogger('migrations-test', { LOG_LEVEL: 'error' }));
});
after(async () => {
  await pool?.end();
  await db?.stop();
});

/** Columns, constraints and indexes of a set, with its prefix taken out of every name. */
async function shapeOf(prefix: string, tables: string[]): Promise<string[]> {
  const unprefixed = (name: string) => `~${name.slice(prefix.length)}`;
  const { rows: columns } = await pool.query<{ t: string; c: string; type: string; nullable: string }>(
    `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable
       FROM information_schema.columns WHERE table_name = ANY($1) ORDER BY table_name, ordinal_position`,
    [tables],
  );
  const { rows: indexes } = await pool.query<{ t: string; i: string; def: string }>(
    `SELECT tablename AS t, indexname AS i, indexdef AS def FROM pg_indexes
      WHERE tablename = ANY($1) ORDER BY tablename, indexname`,
    [tables],
  );
  const { rows: partitioned } = await pool.query<{ t: string; key: string }>(
    `SELECT c.relname AS t, pg_get_partkeydef(c.oid) AS key FROM pg_partitioned_table p
       JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = ANY($1) ORDER BY 1`,
    [tables],
  );
  return [
    ...columns.map((r) => `${unprefixed(r.t)}.${r.c} ${r.type} ${r.nullable}`),
    ...indexes.map((r) => `${unprefixed(r.t)} ${unprefixed(r.i)} ${r.def.replaceAll(prefix, '~')}`),
    ...partitioned.map((r) => `${unprefixed(r.t)} partitioned ${r.key}`),
  ];
}

test('the frozen migrations build the same tables as the live DDL that a replay builds with', async () => {
  await migrateTelemetry(pool);
  const fresh = telemetryTables('telemetry_fresh');
  await pool.query(telemetryDdl(fresh));
  const migrated = await shapeOf(LIVE_TABLES.prefix, tablesOf(LIVE_TABLES));
  assert.ok(migrated.length > 40, 'the migrated tables exist');
  assert.deepEqual(await shapeOf(fresh.prefix, tablesOf(fresh)), migrated);
});
