import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_INFLUX_BUCKET, DEFAULT_INFLUX_ORG, influxConfigured, parseInfluxConfig } from './config.ts';

const NATS_URL = 'nats://127.0.0.1:4222';

test('INFLUX_URL switches the sink on', () => {
  assert.equal(influxConfigured({}), false);
  assert.equal(influxConfigured({ INFLUX_URL: '' }), false);
  assert.equal(influxConfigured({ INFLUX_URL: 'http://localhost:8086' }), true);
});

test('defaults for org and bucket, no token; the URL without a trailing slash', () => {
  assert.deepEqual(parseInfluxConfig({ INFLUX_URL: 'http://localhost:8086/', NATS_URL }), {
    url: 'http://localhost:8086',
    token: undefined,
    org: DEFAULT_INFLUX_ORG,
    bucket: DEFAULT_INFLUX_BUCKET,
  });
  assert.deepEqual(
    parseInfluxConfig({
      INFLUX_URL: 'https://influx.example.com/prefix',
      INFLUX_TOKEN: 's3cret',
      INFLUX_ORG: 'acme',
      INFLUX_BUCKET: 'iot',
      NATS_URL,
    }),
    {
      url: 'https://influx.example.com/prefix',
      token: 's3cret',
      org: 'acme',
      bucket: 'iot',
    },
  );
});

test('a wrong or missing variable is a ConfigError naming it', () => {
  const cases: [NodeJS.ProcessEnv, string][] = [
    [{ NATS_URL }, 'INFLUX_URL'],
    [{ INFLUX_URL: 'localhost:8086', NATS_URL }, 'INFLUX_URL'],
    [{ INFLUX_URL: 'ftp://localhost', NATS_URL }, 'INFLUX_URL'],
    [{ INFLUX_URL: 'http://user:pw@localhost:8086', NATS_URL }, 'INFLUX_URL'],
    [{ INFLUX_URL: 'http://localhost:8086', NATS_URL, INFLUX_ORG: ' acme' }, 'INFLUX_ORG'],
    [{ INFLUX_URL: 'http://localhost:8086', NATS_URL, INFLUX_BUCKET: 'iot\n' }, 'INFLUX_BUCKET'],
  ];
  for (const [env, variable] of cases) {
    assert.throws(
      () => parseInfluxConfig(env),
      (err: unknown) =>
        isConfigError(err) && err.variable === variable && err.message.startsWith(`${variable}:`),
      JSON.stringify(env),
    );
  }
});
