import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, waitFor } from '@telly/harness';
import { connectNats } from '@telly/runtime';
import pg from 'pg';
import { parseConfig } from '../config.ts';
import { type Health, startPlatform } from '../testing/platform.ts';
import { platformUrls } from './dependencies.ts';
import { type RunningPlatform, SHUTDOWN_BUDGET_MS, up } from './up.ts';

const dataDirs: string[] = [];
after(() => Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Running: a zombie (dead, waiting for its new parent to reap it) holds nothing and is not. */
function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // the state follows the command name, which is in parentheses: "<pid> (<comm>) <state> …"
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

function componentPids(report: Health): number[] {
  return Object.entries(report.checks)
    .filter(([name]) => name.startsWith('component:'))
    .map(([, check]) => check.detail?.pid)
    .filter((pid): pid is number => pid !== undefined);
}

function serverPids(report: Health): number[] {
  return [report.checks.nats?.detail?.pid, report.checks.postgres?.detail?.pid].filter(
    (pid): pid is number => pid !== undefined,
  );
}

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'telly-up-'));
  await chmod(dir, 0o755); // as root, Postgres runs as the postgres user, which must reach it
  dataDirs.push(dir);
  return dir;
}

/** `telly up` in this process on free ports, with fixtures/<name>-component.ts as its one component. */
async function upWith(name: string, dataDir: string): Promise<RunningPlatform> {
  const config = parseConfig({
    TELLY_DATA_DIR: dataDir,
    TELLY_API_PORT: '0',
    TELLY_NATS_PORT: String(await freePort()),
    TELLY_POSTGRES_PORT: String(await freePort()),
  });
  return up(config, {
    components: [
      {
        name,
        module: fileURLToPath(new URL(`./fixtures/${name}-component.ts`, import.meta.url)),
        natsUser: 'telemetry-influx', // any component user: it only connects
      },
    ],
  });
}

test('telly up: healthy within 60 s, recovers a killed nats-server, stops cleanly, keeps its data', async () => {
  const dataDir = await tempDataDir();
  const first = await startPlatform({ TELLY_DATA_DIR: dataDir }, { healthyWithinMs: 60_000 });
  const { apiUrl } = first;
  const ready = (await first.health()).body;
  assert.equal(ready.checks.nats?.status, 'up');
  assert.equal(ready.checks.postgres?.status, 'up');
  assert.equal(
    (ready.checks.nats!.detail as { streams?: number }).streams,
    8,
    'the topology is in place: 5 streams, 2 KV buckets, 1 object store',
  );
  assert.match(first.output(), new RegExp(`API, /healthz, /metrics\\s+${apiUrl}`));

  assert.equal(ready.checks['component:registry']?.status, 'up');
  assert.equal(ready.checks['component:api']?.status, 'up');
  assert.equal(ready.checks['component:mqtt']?.status, 'up');
  assert.equal(ready.checks['component:http']?.status, 'up');
  // the GraphQL API answers on the public port (proxied to the API child), with read-your-writes
  const signup = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `mutation { signup(input: { email: "op@example.com", password: "correct horse battery staple",
        tenantName: "farm" }) { accessToken user { tenant { name } } } }`,
    }),
  });
  const signedUp = (await signup.json()) as { data?: { signup: { user: { tenant: { name: string } } } } };
  assert.equal(signedUp.data?.signup.user.tenant.name, 'farm', JSON.stringify(signedUp));

  const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
  assert.match(metrics, /^# TYPE process_cpu_user_seconds_total counter$/m);
  assert.match(metrics, /process_cpu_user_seconds_total\{component="telly-up"\} [0-9.]+/);

  // state written through the managed servers
  // as the operator: the managed nats-server refuses anonymous clients
  const nc = await connectNats((await platformUrls(parseConfig(first.env))).nats, 'up-test');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'KEEPME', subjects: ['keepme.>'] });
  await nc.close();
  const databaseUrl = /Postgres\s+(\S+)/.exec(first.output())?.[1];
  assert.ok(databaseUrl);
  const password = (await readFile(join(dataDir, 'secrets', 'postgres-password'), 'utf8')).trim();
  const dbUrl = databaseUrl.replace('***', encodeURIComponent(password));
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  await client.query('CREATE TABLE keepme (v text); INSERT INTO keepme VALUES ($$kept$$)');
  await client.end();

  // a managed nats-server killed behind telly up's back is restarted
  const natsPid = ready.checks.nats?.detail?.pid;
  assert.ok(natsPid && alive(natsPid));
  process.kill(natsPid, 'SIGKILL');
  const recovered = await waitFor(
    async () => {
      const h = await first.health();
      const pid = h.body.checks.nats?.detail?.pid;
      return h.code === 200 && pid !== natsPid && h.body;
    },
    { timeoutMs: 30_000, what: 'nats-server restarted' },
  );
  const pids = [recovered.checks.nats?.detail?.pid, recovered.checks.postgres?.detail?.pid] as number[];
  assert.ok(pids.every((pid) => pid && alive(pid)));
  const components = componentPids(recovered);
  assert.ok(components.length >= 6 && components.every(alive), JSON.stringify(recovered.checks));

  // Ctrl-C: everything stops, no server or component left behind
  assert.equal(await first.stop(), 0, first.output());
  assert.deepEqual(
    pids.filter((pid) => alive(pid)),
    [],
    'no nats-server or postgres process outlives telly up',
  );
  assert.deepEqual(components.filter(alive), [], 'no component outlives telly up');

  // a second run on the same ports and data dir finds the data of the first
  const second = await startPlatform(first.env, { healthyWithinMs: 60_000 });
  try {
    const nc2 = await connectNats((await platformUrls(parseConfig(second.env))).nats, 'up-test');
    const info = await (await jetstreamManager(nc2)).streams.info('KEEPME');
    assert.equal(info.config.name, 'KEEPME');
    await nc2.close();
    const again = new pg.Client({ connectionString: dbUrl });
    await again.connect();
    const { rows } = await again.query('SELECT v FROM keepme');
    await again.end();
    assert.deepEqual(rows, [{ v: 'kept' }]);
    // SIGTERM: the same clean stop
    const tree = await second.health();
    const all = [...componentPids(tree.body), ...serverPids(tree.body)];
    const signalled = Date.now();
    second.child.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => second.child.once('exit', resolve)), 0, second.output());
    const tookMs = Date.now() - signalled;
    assert.ok(tookMs < 10_000, `SIGTERM took ${tookMs} ms: telly up drains within 10 s`);
    assert.deepEqual(all.filter(alive), [], 'nothing outlives telly up after SIGTERM');
  } finally {
    second.child.kill('SIGKILL');
  }
});

test('SIGKILL of the supervisor: every component and managed server exits within seconds', async () => {
  const run = await startPlatform({ TELLY_DATA_DIR: await tempDataDir() }, { healthyWithinMs: 60_000 });
  const ready = (await run.health()).body;
  const components = componentPids(ready);
  const servers = serverPids(ready);
  assert.equal(servers.length, 2);
  assert.ok(components.length >= 6 && [...components, ...servers].every(alive));

  run.child.kill('SIGKILL'); // no handler runs: the children must notice by themselves
  await waitFor(() => components.every((pid) => !alive(pid)), {
    timeoutMs: 10_000,
    what: 'every component exited after its supervisor was killed',
  });
  await waitFor(() => servers.every((pid) => !alive(pid)), {
    timeoutMs: 15_000,
    what: 'the managed nats-server and Postgres stopped after the supervisor was killed',
  });
});

test('a second signal while telly up drains kills every component and server at once', async () => {
  const run = await startPlatform(
    { TELLY_DATA_DIR: await tempDataDir(), LOG_LEVEL: 'info' },
    { healthyWithinMs: 60_000 },
  );
  const ready = (await run.health()).body;
  const all = [...componentPids(ready), ...serverPids(ready)];
  assert.ok(all.length >= 8 && all.every(alive), JSON.stringify(ready.checks));
  const exited = new Promise((resolve) => run.child.once('exit', resolve));
  run.child.kill('SIGTERM');
  await waitFor(() => run.output().includes('"msg":"stopping"'), {
    timeoutMs: 5_000,
    what: 'the drain began',
  });
  const signalled = Date.now();
  run.child.kill('SIGINT');
  assert.equal(await exited, 130, run.output());
  await waitFor(() => all.every((pid) => !alive(pid)), {
    timeoutMs: 1_000,
    what: 'every component and server killed with telly up',
  });
  assert.ok(Date.now() - signalled < 2_000, 'at once, not after a drain');
});

test('a component that never finishes draining is killed: stop() ends within the shutdown budget', async () => {
  const platform = await upWith('stuck', await tempDataDir());
  const report = await platform.health();
  const pidOf = (check: (typeof report.checks)[string] | undefined) =>
    (check?.detail as { pid?: number })?.pid;
  const pids = [report.checks['component:stuck'], report.checks.nats, report.checks.postgres]
    .map(pidOf)
    .filter((pid): pid is number => pid !== undefined);
  assert.equal(pids.length, 3, JSON.stringify(report.checks));
  assert.ok(pids.every(alive));
  const started = Date.now();
  await platform.stop();
  const tookMs = Date.now() - started;
  assert.ok(tookMs <= SHUTDOWN_BUDGET_MS && SHUTDOWN_BUDGET_MS < 10_000, `stop took ${tookMs} ms`);
  assert.deepEqual(pids.filter(alive), [], 'the stuck component and the servers are gone');
});

test('a crashed component is restarted and reported in /healthz', async () => {
  const dataDir = await tempDataDir();
  const startsFile = join(dataDir, 'echo-starts');
  process.env.ECHO_STARTS_FILE = startsFile;
  const platform = await upWith('echo', dataDir);
  try {
    const before = await platform.health();
    const echo = before.checks['component:echo'];
    assert.equal(echo?.status, 'up');
    const pid = (echo!.detail as { pid: number }).pid;
    process.kill(pid, 'SIGKILL');
    const after = await waitFor(
      async () => {
        const check = (await platform.health()).checks['component:echo'];
        const detail = check?.detail as { pid: number; restarts: number };
        return check?.status === 'up' && detail.pid !== pid && detail;
      },
      { timeoutMs: 20_000, what: 'component restarted' },
    );
    assert.equal(after.restarts, 1);
    const starts = (await readFile(startsFile, 'utf8')).trim().split('\n');
    assert.equal(starts.length, 2);
  } finally {
    await platform.stop();
    delete process.env.ECHO_STARTS_FILE;
  }
});

test('a component that cannot start ends telly up at once: one line saying why, every server stopped', async () => {
  // the HTTP bridge's port is taken
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
  const taken = (holder.address() as AddressInfo).port;
  const env = {
    TELLY_DATA_DIR: await tempDataDir(),
    TELLY_HTTP_PORT: String(taken),
    TELLY_NATS_PORT: String(await freePort()),
    TELLY_POSTGRES_PORT: String(await freePort()),
  };
  try {
    const refused = await startPlatform(env, { healthyWithinMs: 60_000 }).then(
      () => assert.fail('telly up became healthy without its HTTP bridge'),
      (err: Error) => err.message,
    );
    assert.match(refused, /telly up exited with 1:/);
    assert.match(refused, new RegExp(`http failed to start: listen EADDRINUSE.*:${taken}`));
    assert.doesNotMatch(refused, /\n\s+at /, 'a message, not a stack trace');
  } finally {
    holder.close();
  }
  // the managed NATS and Postgres it had started are gone: their ports are free again
  for (const port of [env.TELLY_NATS_PORT, env.TELLY_POSTGRES_PORT]) {
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(Number(port), '127.0.0.1', resolve);
    });
    await new Promise((resolve) => probe.close(resolve));
  }
});
