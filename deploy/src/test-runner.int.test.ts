// `npm test` never hangs on a failed server start: a test file whose setup fails halfway, and
// whose cleanup then throws before stopping what it started, still ends, and leaves no server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const TEST_PACKAGE = fileURLToPath(new URL('../scripts/test-package.ts', import.meta.url));
const HARNESS = fileURLToPath(new URL('../../harness/src/index.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'; // a zombie is dead
  } catch {
    return false;
  }
}

test('a package whose Postgres fails to start ends its run at once, its nats-server killed', async () => {
  const pkg = await mkdtemp(join(tmpdir(), 'telly-hang-'));
  after(() => rm(pkg, { recursive: true, force: true }));
  await chmod(pkg, 0o755); // as root, the postgres user must reach the data dir below
  const badData = join(pkg, 'pg');
  await mkdir(badData, { mode: 0o700 });
  await writeFile(join(badData, 'PG_VERSION'), '18\n'); // and no configuration: Postgres exits
  const pidFile = join(pkg, 'nats.pid');
  await mkdir(join(pkg, 'src'));
  await writeFile(
    join(pkg, 'src', 'broken-setup.int.test.ts'),
    `import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { NatsServer, PostgresServer } from ${JSON.stringify(HARNESS)};
let nats: NatsServer;
let pg: PostgresServer;
before(async () => {
  nats = await NatsServer.start();
  writeFileSync(${JSON.stringify(pidFile)}, String(nats.process.pid));
  pg = await PostgresServer.start({ dataDir: ${JSON.stringify(badData)} });
});
after(async () => {
  await pg.stop(); // pg is undefined: throws, and nats.stop() never runs
  await nats.stop();
});
test('needs both servers', () => {});
`,
  );
  const started = Date.now();
  const { NODE_TEST_CONTEXT: _, ...env } = process.env; // a run of its own, not a subtest of this one
  const run = spawn(process.execPath, [TEST_PACKAGE], { cwd: pkg, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  run.stdout.on('data', (chunk) => {
    output += chunk;
  });
  run.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const timer = setTimeout(() => run.kill('SIGKILL'), 60_000);
  const code = await new Promise((resolve) => run.once('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 1, output);
  assert.match(output, /postgres exited/);
  assert.ok(Date.now() - started < 30_000, `the run took ${Date.now() - started} ms`);
  const natsPid = Number(await readFile(pidFile, 'utf8'));
  assert.equal(alive(natsPid), false, 'the nats-server of the failed setup was killed');
});
