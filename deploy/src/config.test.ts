import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_API_PORT, parseConfig } from './config.ts';

test('defaults are the ports of docs/configuration.md', () => {
  const config = parseConfig({}, '/srv/telly');
  assert.equal(config.apiPort, DEFAULT_API_PORT);
  assert.deepEqual(
    [
      config.httpPort,
      config.mqttPort,
      config.mqttWsPort,
      config.coapPort,
      config.natsPort,
      config.postgresPort,
    ],
    [8080, 1883, 8083, 5683, 4222, 5433],
  );
  assert.equal(config.dataDir, '/srv/telly/.telly');
  assert.equal(config.natsUrl, undefined);
  assert.equal(config.influx, undefined);
});

test('environment overrides are honoured', () => {
  const config = parseConfig(
    { TELLY_API_PORT: '4100', NATS_URL: 'nats://10.0.0.1:4222', TELLY_DATA_DIR: '/var/lib/telly' },
    '/srv',
  );
  assert.equal(config.apiPort, 4100);
  assert.equal(config.natsUrl?.host, '10.0.0.1:4222');
  assert.equal(config.dataDir, '/var/lib/telly');
});

test('bad values fail fast naming the variable', () => {
  assert.throws(
    () => parseConfig({ TELLY_MQTT_PORT: 'eighteen' }),
    (err) => isConfigError(err) && err.variable === 'TELLY_MQTT_PORT' && /port number/.test(err.message),
  );
  assert.throws(() => parseConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL: must use postgres/);
  assert.throws(() => parseConfig({ INFLUX_URL: 'http://influx:8086' }), /INFLUX_ORG: is required/);
});
