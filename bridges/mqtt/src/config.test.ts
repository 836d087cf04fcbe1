import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BURST, DEFAULT_RATE_PER_SECOND } from '@telly/bridge-core';
import { isConfigError } from '@telly/runtime';
import {
  DEFAULT_MQTT_CONNECT_TIMEOUT_MS,
  DEFAULT_MQTT_MAX_PACKET_BYTES,
  DEFAULT_MQTT_MAX_PENDING_PER_ADDRESS,
  parseMqttConfig,
} from './config.ts';

const naming = (variable: string) => (err: unknown) => isConfigError(err) && err.variable === variable;

test('the bounds on connections: defaults, and overrides from the environment', () => {
  const defaults = parseMqttConfig({});
  assert.equal(defaults.maxPacketBytes, DEFAULT_MQTT_MAX_PACKET_BYTES);
  assert.equal(defaults.connectTimeoutMs, DEFAULT_MQTT_CONNECT_TIMEOUT_MS);
  assert.equal(defaults.maxPendingPerAddress, DEFAULT_MQTT_MAX_PENDING_PER_ADDRESS);
  assert.deepEqual(defaults.rateLimit, { ratePerSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_BURST });
  const set = parseMqttConfig({
    TELLY_MQTT_MAX_PACKET_BYTES: '1048576',
    TELLY_MQTT_CONNECT_TIMEOUT: '5s',
    TELLY_MQTT_MAX_PENDING_PER_ADDRESS: '4',
    TELLY_RATE_PER_SECOND: '1000',
    TELLY_RATE_BURST: '3000',
  });
  assert.equal(set.maxPacketBytes, 1_048_576);
  assert.equal(set.connectTimeoutMs, 5_000);
  assert.equal(set.maxPendingPerAddress, 4);
  assert.deepEqual(set.rateLimit, { ratePerSecond: 1000, burst: 3000 });
});

test('bad bounds fail fast, naming the variable', () => {
  const bad: [string, string][] = [
    ['TELLY_MQTT_MAX_PACKET_BYTES', '1k'],
    ['TELLY_MQTT_MAX_PACKET_BYTES', '10'],
    ['TELLY_MQTT_CONNECT_TIMEOUT', '10'],
    ['TELLY_MQTT_CONNECT_TIMEOUT', '2h'],
    ['TELLY_MQTT_MAX_PENDING_PER_ADDRESS', '0'],
    ['TELLY_RATE_BURST', 'lots'],
  ];
  for (const [variable, value] of bad) {
    assert.throws(() => parseMqttConfig({ [variable]: value }), naming(variable), `${variable}=${value}`);
  }
});
