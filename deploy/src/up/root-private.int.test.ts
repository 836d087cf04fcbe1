// As root, Postgres runs as the postgres user: `telly up` from a directory that user cannot
// enter (root's home, a `mktemp -d`), on the default data dir layout.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '@telly/harness';
import pg from 'pg';
import { runTelly, startPlatform } from '../testing/platform.ts';
import { sharedClusterDir } from './postgres-cluster.ts';

const skip = process.getuid?.() !== 0 && 'only root runs Postgres as another user';

/** A private working dir (mode 0700, like root's home) and `.telly` in it, the default data dir. */
async function privateClone(): Promise<{ work: string; dataDir: string }> {
  const work = await mkdtemp(join(tmpdir(), 'telly-private-'));
  const dataDir = join(work, '.telly');
  await mkdir(dataDir);
  after(async () => {
    await rm(work, { recursive: true, force: true });
    await rm(dirname(sharedClusterDir(dataDir)), { recursive: true, force: true });
  });
  return { work, dataDir };
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

test('as root in a private dir: the cluster is kept where postgres reaches it, linked, found again', {
  skip,
}, async () => {
  const { work, dataDir } = await privateClone();
  const shared = sharedClusterDir(dataDir);
  const first = await startPlatform(
    { TELLY_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    { healthyWithinMs: 60_000 },
  );
  let second: Awaited<ReturnType<typeof startPlatform>> | undefined;
  try {
    assert.match(
      first.output(),
      /postgres cluster kept outside the data dir: the postgres user cannot reach it/,
    );
    assert.equal(await mode(work), 0o700, 'the private dir keeps its mode');
    const link = join(dataDir, 'postgres');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readlink(link), shared);
    const postgresUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const cluster = await stat(shared);
    assert.deepEqual([cluster.mode & 0o777, cluster.uid], [0o700, postgresUid]);
    const parent = await stat(dirname(shared));
    assert.deepEqual([parent.mode & 0o777, parent.uid], [0o711, 0]);
    // the secrets stay in the data dir, root's alone
    assert.equal(await mode(join(dataDir, 'secrets')), 0o700);
    assert.equal(await mode(join(dataDir, 'secrets', 'postgres-password')), 0o600);

    const password = (await readFile(join(dataDir, 'secrets', 'postgres-password'), 'utf8')).trim();
    const dbUrl = `postgres://telly:${encodeURIComponent(password)}@127.0.0.1:${first.env.TELLY_POSTGRES_PORT}/telly`;
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    await client.query('CREATE TABLE keepme (v text); INSERT INTO keepme VALUES ($$kept$$)');
    await client.end();
    assert.equal(await first.stop(), 0, first.output());

    second = await startPlatform(first.env, { healthyWithinMs: 60_000 });
    assert.match(second.output(), /"cluster":"[^"]+".*postgres cluster kept outside the data dir/);
    const again = new pg.Client({ connectionString: dbUrl });
    await again.connect();
    const { rows } = await again.query('SELECT v FROM keepme');
    await again.end();
    assert.deepEqual(rows, [{ v: 'kept' }], 'the second start runs on the same cluster');
    const migrate = await second.cli(['migrate']);
    assert.equal(migrate.code, 0, migrate.stderr);
  } finally {
    await first.stop();
    await second?.stop();
  }
});

test('as root, a cluster already in a data dir postgres cannot reach is refused, naming TELLY_DATA_DIR', {
  skip,
}, async () => {
  const { work, dataDir } = await privateClone();
  // a cluster made there before (its dir then closed): never replaced by a new, empty one
  await mkdir(join(dataDir, 'postgres'));
  await writeFile(join(dataDir, 'postgres', 'PG_VERSION'), '17\n');
  const run = await runTelly(['up'], {
    TELLY_DATA_DIR: dataDir,
    TELLY_API_PORT: String(await freePort()),
    TELLY_NATS_PORT: String(await freePort()),
    TELLY_POSTGRES_PORT: String(await freePort()),
  });
  assert.notEqual(run.code, 0);
  assert.match(
    run.stderr,
    new RegExp(`^configuration error: TELLY_DATA_DIR: the postgres user cannot enter ${work} `, 'm'),
  );
  assert.ok((await lstat(join(dataDir, 'postgres'))).isDirectory(), 'left as it was');
  await assert.rejects(stat(sharedClusterDir(dataDir)), { code: 'ENOENT' });
});

test('as root, a cluster left by an earlier data dir at the same path is moved aside, not reused', {
  skip,
}, async () => {
  const { dataDir } = await privateClone();
  // `rm -rf .telly` took the link and the password: the old cluster cannot be opened with a new one
  const shared = sharedClusterDir(dataDir);
  await mkdir(shared, { recursive: true });
  await writeFile(join(shared, 'PG_VERSION'), '17\n');
  const platform = await startPlatform(
    { TELLY_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    { healthyWithinMs: 60_000 },
  );
  try {
    assert.match(platform.output(), /a cluster no data dir links to was moved aside/);
    const kept = await readdir(dirname(shared));
    const aside = kept.find((name) => name.startsWith('postgres.orphaned-'));
    assert.ok(aside, kept.join(' '));
    assert.equal(
      await readFile(join(dirname(shared), aside, 'PG_VERSION'), 'utf8'),
      '17\n',
      'kept as it was',
    );
    assert.equal(await readlink(join(dataDir, 'postgres')), shared);
  } finally {
    await platform.stop();
  }
});
