import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, parseHttpConfig } from './config.ts';

const naming = (variable: string) => (err: unknown) => isConfigError(err) && err.variable === variable;

test('defaults, overrides and a cluster of NATS servers', () => {
  assert.deepEqual(parseHttpConfig({ NATS_URL: 'nats://127.0.0.1:4222' }), {
    port: DEFAULT_HTTP_PORT,
    host: DEFAULT_HTTP_HOST,
    natsServers: ['nats://127.0.0.1:4222'],
    tls: undefined,
  });
  const config = parseHttpConfig({
    NATS_URL: 'nats://a:4222, tls://b:4222',
    TELLY_HTTP_PORT: '0',
    TELLY_HTTP_TLS_CERT: '/c.pem',
    TELLY_HTTP_TLS_KEY: '/k.pem',
  });
  assert.deepEqual(config.natsServers, ['nats://a:4222', 'tls://b:4222']);
  assert.equal(config.port, 0);
  assert.deepEqual(config.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
});

test('bad settings fail fast, naming the variable', () => {
  assert.throws(() => parseHttpConfig({}), naming('NATS_URL'));
  assert.throws(() => parseHttpConfig({ NATS_URL: 'http://x' }), naming('NATS_URL'));
  assert.throws(
    () => parseHttpConfig({ NATS_URL: 'nats://x', TELLY_HTTP_PORT: '80a' }),
    naming('TELLY_HTTP_PORT'),
  );
  assert.throws(
    () => parseHttpConfig({ NATS_URL: 'nats://x', TELLY_HTTP_TLS_CERT: '/c.pem' }),
    naming('TELLY_HTTP_TLS_KEY'),
  );
  assert.throws(
    () => parseHttpConfig({ NATS_URL: 'nats://x', TELLY_HTTP_TLS_KEY: '/k.pem' }),
    naming('TELLY_HTTP_TLS_CERT'),
  );
});
