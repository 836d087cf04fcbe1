import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestDatabase, type TestDatabase } from '@telly/harness';
import { createLogger, createPgPool, runMigrations } from '@telly/runtime';
import type pg from 'pg';
import { telemetryMigrations } from './migrations.ts';
import { Partitions } from './partitions.ts';
import { createShadow, SHADOW } from './replay/shadow.ts';
import { LIVE_TABLES, tablesOf } from './tables.ts';

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

test('a replay builds its fresh tables shaped as the frozen migrations shape the live ones', async () => {
  await runMigrations(pool, telemetryMigrations);
  const rawIndexes = await createShadow(pool);
  assert.equal(rawIndexes.length, 2, 'the raw indexes are left for after the bulk');
  for (const statement of rawIndexes) await pool.query(statement);
  // partitions created as the live ones are carry the parent's indexes
  const now = Date.now();
  await new Partitions().ensure(pool, [now]);
  await new Partitions(SHADOW).ensure(pool, [now]);
  const migrated = await shapeOf(LIVE_TABLES.prefix, tablesOf(LIVE_TABLES));
  assert.ok(migrated.length > 40, 'the migrated tables exist');
  assert.ok(
    migrated.includes('~ partitioned RANGE ("time")'),
    `the raw table is partitioned by time: ${migrated.filter((r) => r.includes('partitioned'))}`,
  );
  assert.deepEqual(await shapeOf(SHADOW.prefix, tablesOf(SHADOW)), migrated);
  const partitionIndexes = async (prefix: string) =>
    (
      await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_indexes WHERE tablename IN
           (SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = to_regclass($1))`,
        [prefix],
      )
    ).rows[0]?.n;
  assert.equal(await partitionIndexes(SHADOW.raw), await partitionIndexes(LIVE_TABLES.raw));
  assert.equal(await partitionIndexes(LIVE_TABLES.raw), '2');

  // again over the leftover of an interrupted replay: replaced, the same shape
  await createShadow(pool);
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'telly_shape_%'`,
  );
  assert.equal(rows[0]?.n, '0', 'the scratch schema is gone');
});

test('the fresh tables are built from the migrations even when the live ones are gone', async () => {
  const migrated = await shapeOf(LIVE_TABLES.prefix, tablesOf(LIVE_TABLES));
  await pool.query(`DROP TABLE ${tablesOf(LIVE_TABLES).join(', ')} CASCADE`);
  for (const statement of await createShadow(pool)) await pool.query(statement);
  assert.deepEqual(await shapeOf(SHADOW.prefix, tablesOf(SHADOW)), migrated);
});
