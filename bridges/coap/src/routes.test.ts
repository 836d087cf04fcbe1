import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIngestError } from '@telly/bridge-core';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_COAP_PORT, parseCoapConfig } from './config.ts';
import { contentTypeOf } from './content-format.ts';
import { authOf, parseRoute } from './routes.ts';

const CHANNEL = '01a23182-0000-7000-8000-000000000001';
const notFound = (err: unknown) => isIngestError(err, 'invalid-topic');

test('routes: messages with subtopics, commands, results, healthz; anything else is 4.04', () => {
  assert.deepEqual(parseRoute(['channels', CHANNEL, 'messages']), {
    kind: 'messages',
    channelId: CHANNEL,
    subtopic: [],
  });
  assert.deepEqual(parseRoute(['channels', CHANNEL, 'messages', 'soil', 'a']), {
    kind: 'messages',
    channelId: CHANNEL,
    subtopic: ['soil', 'a'],
  });
  assert.deepEqual(parseRoute(['things', 't1', 'commands']), { kind: 'commands', thingId: 't1' });
  assert.deepEqual(parseRoute(['things', 't1', 'commands', 'c1', 'result']), {
    kind: 'result',
    thingId: 't1',
    commandId: 'c1',
  });
  assert.deepEqual(parseRoute(['healthz']), { kind: 'healthz' });
  for (const bad of [
    [],
    ['channels'],
    ['channels', 'a.b', 'messages'],
    ['channels', CHANNEL, 'messages', 'x y'],
    ['channels', CHANNEL, 'messages', 'ct', 'application_json'],
    ['things', 't1'],
    ['things', 'a*', 'commands'],
    ['things', 't1', 'commands', 'c1'],
  ]) {
    assert.throws(() => parseRoute(bad), notFound, JSON.stringify(bad));
  }
});

test('the key is the auth query; without it, 4.01', () => {
  assert.equal(authOf(['x=1', 'auth=abc']), 'abc');
  assert.throws(
    () => authOf(['key=abc']),
    (err) => isIngestError(err, 'unauthenticated'),
  );
});

test('content formats 110, 112, 50 and 60 are read, absent is sniffed, any other is 4.15', () => {
  const json = new TextEncoder().encode('{"a":1}');
  assert.equal(contentTypeOf('application/senml+json', json), 'application/senml+json');
  assert.equal(contentTypeOf('application/senml+cbor', json), 'application/senml+cbor');
  assert.equal(contentTypeOf('application/json', json), 'application/json');
  assert.equal(contentTypeOf('application/cbor', json), 'application/senml+cbor');
  assert.equal(contentTypeOf(undefined, json), 'application/json');
  assert.equal(contentTypeOf(undefined, new TextEncoder().encode(' [')), 'application/senml+json');
  for (const other of ['text/plain', 'application/xml', 9999]) {
    assert.throws(
      () => contentTypeOf(other, json),
      (err) => isIngestError(err, 'unsupported-content-type'),
    );
  }
});

test('config: defaults, and bad values naming the variable', () => {
  const config = parseCoapConfig({});
  assert.equal(config.port, DEFAULT_COAP_PORT);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(parseCoapConfig({ TELLY_COAP_PORT: '0', TELLY_COAP_HOST: '::1' }).host, '::1');
  assert.equal(parseCoapConfig({ TELLY_BIND_ADDRESS: '127.0.0.1' }).host, '127.0.0.1');
  assert.equal(parseCoapConfig({ TELLY_COAP_TRANSFER_TIMEOUT: '5s' }).transferTimeoutMs, 5_000);
  const naming = (variable: string) => (err: unknown) => isConfigError(err) && err.variable === variable;
  assert.throws(() => parseCoapConfig({ TELLY_COAP_PORT: 'udp' }), naming('TELLY_COAP_PORT'));
  assert.throws(() => parseCoapConfig({ TELLY_COAP_HOST: 'localhost' }), naming('TELLY_COAP_HOST'));
  assert.throws(() => parseCoapConfig({ TELLY_COAP_MAX_OBSERVERS: '0' }), naming('TELLY_COAP_MAX_OBSERVERS'));
  assert.throws(
    () => parseCoapConfig({ TELLY_COAP_TRANSFER_TIMEOUT: 'soon' }),
    naming('TELLY_COAP_TRANSFER_TIMEOUT'),
  );
});
