import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from './config.ts';
import { parseBindAddress, parseDatabaseUrl, parseNatsConfig } from './platform-config.ts';

test('NATS_URL is one server or a comma-separated cluster list, every one a nats or tls URL', () => {
  assert.deepEqual(parseNatsConfig({ NATS_URL: 'nats://127.0.0.1:4222' }).servers, ['nats://127.0.0.1:4222']);
  assert.deepEqual(parseNatsConfig({ NATS_URL: ' nats://a:4222, tls://b:4222 ,nats://c:4222' }).servers, [
    'nats://a:4222',
    'tls://b:4222',
    'nats://c:4222',
  ]);
  for (const NATS_URL of [undefined, '', ' , ', 'nats://a:4222,http://b:80', 'a:4222']) {
    assert.throws(
      () => parseNatsConfig({ NATS_URL }),
      (err) => isConfigError(err) && err.variable === 'NATS_URL',
      String(NATS_URL),
    );
  }
});

test('NATS credentials: user and password together, token, creds file', () => {
  const base = { NATS_URL: 'nats://a:4222' };
  assert.deepEqual(parseNatsConfig({ ...base, NATS_USER: 'u', NATS_PASSWORD: 'p' }), {
    servers: ['nats://a:4222'],
    user: 'u',
    pass: 'p',
    token: undefined,
    credsFile: undefined,
  });
  assert.equal(parseNatsConfig({ ...base, NATS_TOKEN: 't' }).token, 't');
  assert.equal(parseNatsConfig({ ...base, NATS_CREDS: '/x.creds' }).credsFile, '/x.creds');
  assert.throws(
    () => parseNatsConfig({ ...base, NATS_USER: 'u' }),
    (err) => isConfigError(err) && err.variable === 'NATS_PASSWORD',
  );
});

test('DATABASE_URL is required and must be a postgres URL', () => {
  assert.equal(parseDatabaseUrl({ DATABASE_URL: 'postgres://u:p@h:5432/db' }), 'postgres://u:p@h:5432/db');
  for (const DATABASE_URL of [undefined, 'mysql://h/db', 'not a url']) {
    assert.throws(
      () => parseDatabaseUrl({ DATABASE_URL }),
      (err) => isConfigError(err) && err.variable === 'DATABASE_URL',
    );
  }
});

test('NATS_INBOX_PREFIX: replies to this connection arrive there; no wildcards', () => {
  const base = { NATS_URL: 'nats://a:4222' };
  assert.equal(parseNatsConfig(base).inboxPrefix, undefined);
  assert.equal(
    parseNatsConfig({ ...base, NATS_INBOX_PREFIX: '_INBOX_telly-api' }).inboxPrefix,
    '_INBOX_telly-api',
  );
  for (const NATS_INBOX_PREFIX of ['_INBOX.>', 'a.*', 'a b', 'a.']) {
    assert.throws(
      () => parseNatsConfig({ ...base, NATS_INBOX_PREFIX }),
      (err) => isConfigError(err) && err.variable === 'NATS_INBOX_PREFIX',
      NATS_INBOX_PREFIX,
    );
  }
});

test('TELLY_BIND_ADDRESS: 0.0.0.0 unless an IPv4 or IPv6 literal is given', () => {
  assert.equal(parseBindAddress({}), '0.0.0.0');
  assert.equal(parseBindAddress({ TELLY_BIND_ADDRESS: '10.0.0.5' }), '10.0.0.5');
  assert.equal(parseBindAddress({ TELLY_BIND_ADDRESS: '::' }), '::');
  assert.throws(
    () => parseBindAddress({ TELLY_BIND_ADDRESS: 'localhost' }),
    (err) => isConfigError(err) && err.variable === 'TELLY_BIND_ADDRESS',
  );
});
