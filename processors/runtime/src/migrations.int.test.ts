import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startTestDatabase, type TestDatabase } from '@telly/harness';
import type pg from 'pg';
import { createLogger } from './logger.ts';
import { runMigrations, runtimeMigrations, sqlMigrations } from './migrations.ts';
import { createPgPool } from './pg-pool.ts';

let db: TestDatabase;
let pool: pg.Pool;
let dir: string;
before(async () => {
  db = await startTestDatabase();
  pool = createPgPool({ connectionString: db.url }, createLogger('migrations-test', { LOG_LEVEL: 'error' }));
  dir = await mkdtemp(join(tmpdir(), 'telly-migrations-'));
});
after(async () => {
  await pool?.end();
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a folder of .sql files is one migration per file, keyed by its name, applied in key order', async () => {
  // written out of order; the second needs the first's table, so the order shows
  await writeFile(join(dir, '0002_more.sql'), 'ALTER TABLE sample ADD COLUMN note text;\n');
  await writeFile(join(dir, '0001_sample.sql'), 'CREATE TABLE sample (id int PRIMARY KEY);\n');
  await writeFile(join(dir, 'README.md'), 'not a migration');
  const set = sqlMigrations('sample', pathToFileURL(`${dir}/`));
  assert.deepEqual(Object.keys(set.migrations), ['0001_sample', '0002_more']);
  assert.equal(set.texts['0001_sample'], 'CREATE TABLE sample (id int PRIMARY KEY);\n');

  await runMigrations(pool, set);
  await runMigrations(pool, set); // a second run applies nothing (CREATE TABLE would fail)
  const { rows } = await pool.query<{ name: string }>(
    'SELECT name FROM sample_migrations ORDER BY timestamp, name',
  );
  assert.deepEqual(
    rows.map((r) => r.name),
    ['0001_sample', '0002_more'],
  );
  const { rows: columns } = await pool.query<{ c: string }>(
    `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'sample' ORDER BY ordinal_position`,
  );
  assert.deepEqual(
    columns.map((r) => r.c),
    ['id', 'note'],
  );
});

test("the runtime's own set keeps its key and creates the checkpoint tables", async () => {
  assert.deepEqual(Object.keys(runtimeMigrations.migrations), ['0001_checkpoints']);
  await runMigrations(pool, runtimeMigrations);
  await runMigrations(pool, runtimeMigrations);
  const { rows } = await pool.query<{ t: string | null; c: string | null }>(
    `SELECT to_regclass('telly_applied')::text AS t, to_regclass('telly_checkpoints')::text AS c`,
  );
  assert.deepEqual(rows[0], { t: 'telly_applied', c: 'telly_checkpoints' });
});
