import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BURST, DEFAULT_RATE_PER_SECOND } from '@telly/bridge-core';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_ACCEPT_POLICY } from '@telly/schemas';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, parseHttpConfig } from './config.ts';

const naming = (variable: string) => (err: unknown) => isConfigError(err) && err.variable === variable;

// NATS_URL (one server or a cluster list) is the runtime's: processors/runtime/src/platform-config.test.ts
test('defaults and overrides', () => {
  assert.deepEqual(parseHttpConfig({}), {
    port: DEFAULT_HTTP_PORT,
    host: DEFAULT_HTTP_HOST,
    tls: undefined,
    rateLimit: { ratePerSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_BURST },
    accept: DEFAULT_ACCEPT_POLICY,
  });
  const config = parseHttpConfig({
    TELLY_HTTP_PORT: '0',
    TELLY_HTTP_TLS_CERT: '/c.pem',
    TELLY_HTTP_TLS_KEY: '/k.pem',
    TELLY_RATE_PER_SECOND: '1000',
    TELLY_RATE_BURST: '2000',
  });
  assert.equal(config.port, 0);
  assert.deepEqual(config.rateLimit, { ratePerSecond: 1000, burst: 2000 });
  assert.deepEqual(config.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
});

test('bad settings fail fast, naming the variable', () => {
  assert.throws(() => parseHttpConfig({ TELLY_HTTP_PORT: '80a' }), naming('TELLY_HTTP_PORT'));
  assert.throws(() => parseHttpConfig({ TELLY_HTTP_TLS_CERT: '/c.pem' }), naming('TELLY_HTTP_TLS_KEY'));
  assert.throws(() => parseHttpConfig({ TELLY_HTTP_TLS_KEY: '/k.pem' }), naming('TELLY_HTTP_TLS_CERT'));
});
