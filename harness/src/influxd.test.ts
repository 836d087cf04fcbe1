import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MissingBinaryError } from './binaries.ts';
import { findInfluxd, INFLUXD_VERSION } from './influxd.ts';

let cache: string;
before(async () => {
  cache = await mkdtemp(join(tmpdir(), 'telly-influxd-cache-'));
});
after(async () => {
  await rm(cache, { recursive: true, force: true });
});
const base = () => join(cache, `influxd-${INFLUXD_VERSION}`);
const env = (extra: NodeJS.ProcessEnv = {}) => ({ TELLY_CACHE_DIR: cache, ...extra });

test('findInfluxd: never built is an error that says how to build it', () => {
  assert.throws(
    () => findInfluxd(env()),
    (err) => err instanceof MissingBinaryError && /npm run setup/.test(err.message),
  );
});

test('findInfluxd: a platform where it cannot be built gives the reason to skip with', async () => {
  await writeFile(`${base()}.unavailable`, 'Rust (cargo) is not installed\n');
  assert.deepEqual(findInfluxd(env()), {
    unavailable: `influxd ${INFLUXD_VERSION} cannot be built here: Rust (cargo) is not installed`,
  });
  await rm(`${base()}.unavailable`);
});

test('findInfluxd: a failed build where it is known to work is an error naming the log', async () => {
  await writeFile(`${base()}.failed`, 'the build failed after 12s (log: /x/influxd.log)\n');
  assert.throws(
    () => findInfluxd(env()),
    (err) => err instanceof MissingBinaryError && err.message.includes('log: /x/influxd.log'),
  );
  await rm(`${base()}.failed`);
});

test('findInfluxd: the cached build, or TELLY_INFLUXD_BIN when it is set', async () => {
  await mkdir(base(), { recursive: true });
  await writeFile(join(base(), 'influxd'), '#!/bin/sh\n', { mode: 0o755 });
  assert.deepEqual(findInfluxd(env()), { bin: join(base(), 'influxd') });
  assert.deepEqual(findInfluxd(env({ TELLY_INFLUXD_BIN: '/bin/sh' })), { bin: '/bin/sh' });
  assert.throws(() => findInfluxd(env({ TELLY_INFLUXD_BIN: join(cache, 'nope') })), MissingBinaryError);
});
