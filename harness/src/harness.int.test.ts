import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import {
  isPostgresAccessError,
  MIN_NATS_SERVER_VERSION,
  NatsServer,
  PostgresServer,
  startNatsAndPostgres,
  startTestDatabase,
  VictoriaMetrics,
  WaitTimeoutError,
  waitFor,
} from './index.ts';

test('nats-server >= 2.11 starts with JetStream, survives a kill + restart on the same port and store', async () => {
  await using nats = await NatsServer.start();
  const [major, minor] = nats.version.split('.').map(Number);
  assert.ok(major! > MIN_NATS_SERVER_VERSION[0] || minor! >= MIN_NATS_SERVER_VERSION[1], nats.version);
  const jsz = (await (await fetch(`http://127.0.0.1:${nats.httpPort}/jsz`)).json()) as { config?: unknown };
  assert.ok(jsz.config, 'JetStream is enabled');
  await nats.process.kill('SIGKILL');
  assert.equal(nats.process.running, false);
  await nats.restart();
  assert.equal((await fetch(nats.healthUrl)).status, 200);
});

test('postgres starts from the cached template and keeps data across a restart', async () => {
  await using db = await startTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('CREATE TABLE t (v int)');
  await client.query('INSERT INTO t VALUES (42)');
  await client.end();
  if (db.server) {
    await db.server.restart();
  }
  const again = new pg.Client({ connectionString: db.url });
  await again.connect();
  const { rows } = await again.query('SELECT v FROM t');
  await again.end();
  assert.deepEqual(rows, [{ v: 42 }]);
});

test('a stopped temp postgres leaves no process behind', async () => {
  const server = await PostgresServer.start({ durable: false });
  const pid = server.process.pid!;
  await server.stop();
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
});

test('victoria-metrics accepts InfluxDB line protocol on /api/v2/write', async () => {
  await using vm = await VictoriaMetrics.start();
  const write = await fetch(`${vm.url}/api/v2/write?org=telly&bucket=telly&precision=ms`, {
    method: 'POST',
    body: `telemetry,thing=t1 temperature=21.5 ${Date.now()}`,
  });
  assert.equal(write.status, 204);
  const query = new URLSearchParams({ 'match[]': '{__name__=~"telemetry.*"}' });
  const exported = await waitFor(async () => {
    await vm.flush();
    const text = await (await fetch(`${vm.url}/api/v1/export?${query}`)).text();
    return text.length > 0 && text;
  });
  assert.match(exported, /"telemetry_temperature".*"values":\[21\.5\]/);
});

test('startNatsAndPostgres stops what was built on the servers in reverse order, then both servers', async () => {
  const stack = await startNatsAndPostgres({ env: {} });
  assert.equal((await fetch(stack.nats.healthUrl)).status, 200);
  const client = new pg.Client({ connectionString: stack.db.url });
  await client.connect();
  const order: string[] = [];
  stack.onStop(() => client.end().then(() => order.push('client')));
  stack.onStop(() => {
    order.push('failing');
    throw new Error('cleanup failed');
  });
  stack.onStop(async () => {
    // the servers are still up while cleanups run
    assert.equal((await fetch(stack.nats.healthUrl)).status, 200);
    order.push('last registered');
  });
  const natsPid = stack.nats.process.pid as number;
  const postgresPid = stack.db.server?.process.pid as number;
  await assert.rejects(stack.stop(), /cleanup failed/);
  assert.deepEqual(order, ['last registered', 'failing', 'client']);
  assert.throws(() => process.kill(natsPid, 0), /ESRCH/);
  assert.throws(() => process.kill(postgresPid, 0), /ESRCH/);
  await assert.rejects(stack.stop(), /cleanup failed/, 'stop() again returns the same outcome');
  assert.throws(() => stack.onStop(() => {}), /after stop/);
});

/** Pids of the processes whose command line mentions `text` (a data or store dir of one test). */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

/** A data dir Postgres refuses at once: a PG_VERSION but no configuration. */
async function unusableDataDir(): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'telly-bad-pg-'));
  await chmod(parent, 0o755);
  const dataDir = join(parent, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  await writeFile(join(dataDir, 'PG_VERSION'), 'not a version\n');
  after(() => rm(parent, { recursive: true, force: true }));
  return dataDir;
}

test('a Postgres that cannot start rejects within seconds, with its log, and leaves no process', async () => {
  const dataDir = await unusableDataDir();
  const started = Date.now();
  await assert.rejects(PostgresServer.start({ dataDir }), /postgres exited:\n.*postgresql.conf/);
  assert.ok(Date.now() - started < 10_000, `rejected after ${Date.now() - started} ms`);
  assert.deepEqual(await processesMentioning(dataDir), []);
});

test('a nats-server that never gets ready is stopped at its deadline: the start rejects, its pid is gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'telly-hung-nats-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const bin = join(dir, 'nats-server');
  const pidFile = join(dir, 'pid');
  // answers --version like nats-server, then hangs without ever listening
  await writeFile(
    bin,
    `#!/bin/sh\n[ "$1" = --version ] && { echo nats-server: v2.14.9; exit 0; }\necho $$ > ${pidFile}\nexec sleep 600\n`,
    {
      mode: 0o755,
    },
  );
  const started = Date.now();
  await assert.rejects(NatsServer.start({ bin, startTimeoutMs: 1_000 }), WaitTimeoutError);
  assert.ok(Date.now() - started < 6_000, `rejected after ${Date.now() - started} ms`);
  const pid = Number(await readFile(pidFile, 'utf8'));
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
});

test('startNatsAndPostgres: when Postgres fails to start, the nats-server it started is stopped', async () => {
  const storeDir = await mkdtemp(join(tmpdir(), 'telly-stack-nats-'));
  after(() => rm(storeDir, { recursive: true, force: true }));
  const dataDir = await unusableDataDir();
  const started = Date.now();
  await assert.rejects(
    startNatsAndPostgres({ nats: { storeDir }, postgres: { dataDir } }),
    /postgres exited/,
  );
  assert.ok(Date.now() - started < 10_000, `rejected after ${Date.now() - started} ms`);
  assert.deepEqual(await processesMentioning(storeDir), [], 'no nats-server left running');
  assert.deepEqual(await processesMentioning(dataDir), [], 'no postgres left running');
});

test('as root, a data dir the postgres user cannot enter is refused at once, naming the closed directory', {
  skip: process.getuid?.() !== 0 && 'only root runs Postgres as another user',
}, async () => {
  const closed = await mkdtemp(join(tmpdir(), 'telly-private-')); // mode 0700, like root's home
  after(() => rm(closed, { recursive: true, force: true }));
  const dataDir = join(closed, 'pg');
  await assert.rejects(
    PostgresServer.start({ dataDir }),
    (err) => isPostgresAccessError(err) && err.message.includes(`cannot enter ${closed} `),
  );
  assert.deepEqual(await processesMentioning(dataDir), []);
});
