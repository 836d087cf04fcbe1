import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import {
  MIN_NATS_SERVER_VERSION,
  NatsServer,
  PostgresServer,
  startNatsAndPostgres,
  startTestDatabase,
  VictoriaMetrics,
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
