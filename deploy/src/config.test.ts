import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_API_PORT, parseConfig } from './config.ts';

// each component's own ports are its config's: bridges/*/src/config.test.ts
test('defaults are the ports of docs/configuration.md', () => {
  const config = parseConfig({}, '/srv/telly');
  assert.equal(config.apiPort, DEFAULT_API_PORT);
  assert.deepEqual([config.apiPort, config.natsPort, config.postgresPort], [4000, 4222, 5433]);
  assert.equal(config.dataDir, '/srv/telly/.telly');
  assert.equal(config.nats, undefined);
  assert.equal(config.databaseUrl, undefined);
});

test('environment overrides are honoured', () => {
  const config = parseConfig(
    {
      TELLY_API_PORT: '4100',
      NATS_URL: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222',
      TELLY_DATA_DIR: '/var/lib/telly',
    },
    '/srv',
  );
  assert.equal(config.apiPort, 4100);
  assert.deepEqual(config.nats?.servers, ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222']);
  assert.equal(config.dataDir, '/var/lib/telly');
});

test('bad values fail fast naming the variable', () => {
  assert.throws(
    () => parseConfig({ TELLY_NATS_PORT: 'eighteen' }),
    (err) => isConfigError(err) && err.variable === 'TELLY_NATS_PORT' && /port number/.test(err.message),
  );
  assert.throws(() => parseConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL: must use postgres/);
});

test('TELLY_BIND_ADDRESS: every interface by default, an IP literal when given', () => {
  assert.equal(parseConfig({}).bindAddress, '0.0.0.0');
  assert.equal(parseConfig({ TELLY_BIND_ADDRESS: '127.0.0.1' }).bindAddress, '127.0.0.1');
  assert.equal(parseConfig({ TELLY_BIND_ADDRESS: '::1' }).bindAddress, '::1');
  assert.throws(
    () => parseConfig({ TELLY_BIND_ADDRESS: 'example.com' }),
    (err) => isConfigError(err) && err.variable === 'TELLY_BIND_ADDRESS',
  );
});

test('the passwords of Telly users on a given cluster, only with NATS_URL', () => {
  const env = { TELLY_NATS_API_PASSWORD: 'a', TELLY_NATS_TELEMETRY_PG_PASSWORD: 't' };
  assert.deepEqual(parseConfig(env).natsPasswords, {}, 'the managed server generates its own');
  assert.deepEqual(parseConfig({ ...env, NATS_URL: 'nats://10.0.0.1:4222' }).natsPasswords, {
    api: 'a',
    'telemetry-pg': 't',
  });
});
