import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type NatsAndPostgres, startNatsAndPostgres } from '@telly/harness';
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
  assert.match(first.stdout, /^migrations up to date: runtime, registry, commands, devices, telemetry, api$/m);
  const applied = await migrationTables();
  assert.deepEqual(Object.keys(applied).sort(), ['api', 'commands', 'devices', 'registry', 'runtime', 'telemetry']);
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
