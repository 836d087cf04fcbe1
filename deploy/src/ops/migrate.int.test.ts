import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, type NatsAndPostgres, startNatsAndPostgres } from '@telly/harness';
import pg from 'pg';
import { runTelly, type TellyRun } from '../testing/platform.ts';

let servers: NatsAndPostgres;
before(async () => {
  servers = await startNatsAndPostgres();
});
after(() => servers?.stop());

function telly(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TellyRun> {
  return runTelly(args, { NATS_URL: servers.nats.url, DATABASE_URL: servers.db.url, ...env });
}

async function migrationTables(): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: servers.db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_name LIKE '%\\_migrations'`,
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of rows) {
      const { rows: applied } = await client.query(`SELECT name FROM ${table_name}`);
      counts[table_name.replace(/_migrations$/, '')] = applied.length;
    }
    return counts;
  } finally {
    await client.end();
  }
}

test('telly migrate brings every package up to date once, and a second run changes nothing', async () => {
  const first = await telly(['migrate']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /^migrations up to date: runtime, registry, commands, devices, rules, telemetry, api$/m,
  );
  const applied = await migrationTables();
  assert.deepEqual(Object.keys(applied).sort(), [
    'api',
    'commands',
    'devices',
    'registry',
    'rules',
    'runtime',
    'telemetry',
  ]);
  assert.ok(
    Object.values(applied).every((n) => n >= 1),
    JSON.stringify(applied),
  );

  const second = await telly(['migrate']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await migrationTables(), applied);
});

test('telly migrate names the variable that is wrong', async () => {
  const { code, stderr } = await telly(['migrate'], { DATABASE_URL: 'mysql://nowhere/db' });
  assert.equal(code, 2);
  assert.match(stderr, /configuration error: DATABASE_URL: must use postgres/);
});

const OPERATOR_COMMANDS = [['verify', 'telemetry-pg'], ['replay', 'telemetry-pg'], ['migrate']];

/** The managed mode: no NATS_URL / DATABASE_URL, whatever this process's environment has. */
const MANAGED = { NATS_URL: '', DATABASE_URL: '' };

/** A data dir holding the secrets telly up would have generated (values of no platform). */
async function dataDirWithSecrets(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'telly-ops-'));
  after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'secrets'), { mode: 0o700 });
  for (const name of ['nats-admin.password', 'postgres-password'])
    await writeFile(join(dir, 'secrets', name), 'not-the-password\n', { mode: 0o600 });
  return dir;
}

function oneLine(run: TellyRun): string {
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, not a stack:\n${run.stderr}`);
  return lines[0]!;
}

test('verify, replay, migrate on a data dir telly up never ran on: one line naming TELLY_DATA_DIR, no file created', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'telly-ops-'));
  after(() => rm(parent, { recursive: true, force: true }));
  const empty = join(parent, 'empty');
  await mkdir(empty);
  for (const dataDir of [join(parent, 'missing'), empty]) {
    for (const args of OPERATOR_COMMANDS) {
      const run = await runTelly(args, { ...MANAGED, TELLY_DATA_DIR: dataDir });
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(
        oneLine(run),
        /^configuration error: TELLY_DATA_DIR: .* is not the data dir of a platform/,
      );
    }
  }
  assert.deepEqual(await readdir(parent), ['empty'], 'the missing data dir was not created');
  assert.deepEqual(await readdir(empty), [], 'no secret was generated');
});

test('verify, replay, migrate with a wrong TELLY_NATS_PORT: one line naming it', async () => {
  const env = {
    ...MANAGED,
    TELLY_DATA_DIR: await dataDirWithSecrets(),
    TELLY_NATS_PORT: String(await freePort()),
  };
  for (const args of OPERATOR_COMMANDS) {
    const run = await runTelly(args, env);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(
      oneLine(run),
      new RegExp(`^cannot reach NATS at nats://127.0.0.1:${env.TELLY_NATS_PORT} \\(.+\\): .*TELLY_NATS_PORT`),
    );
  }
});

test('verify, replay, migrate with a wrong TELLY_POSTGRES_PORT or DATABASE_URL: one line naming it', async () => {
  const port = await freePort();
  const managed = {
    NATS_URL: servers.nats.url,
    DATABASE_URL: '',
    TELLY_DATA_DIR: await dataDirWithSecrets(),
  };
  const wrongPassword = new URL(servers.db.url);
  wrongPassword.password = 'wrong';
  for (const args of OPERATOR_COMMANDS) {
    const wrongPort = await runTelly(args, { ...managed, TELLY_POSTGRES_PORT: String(port) });
    assert.equal(wrongPort.code, 1, wrongPort.stderr);
    assert.match(
      oneLine(wrongPort),
      new RegExp(`^cannot reach Postgres at 127.0.0.1:${port}/telly \\(.+\\): .*TELLY_POSTGRES_PORT`),
    );
    const refused = await telly(args, { DATABASE_URL: wrongPassword.toString() });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      oneLine(refused),
      /^cannot reach Postgres at .*password authentication failed.*: check DATABASE_URL$/,
    );
  }
});
