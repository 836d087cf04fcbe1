import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { COMPONENTS, loadComponent } from './components.ts';

const byName = (name: string) => COMPONENTS.find((entry) => entry.name === name)!;

test('each component checks its own settings, so telly up fails fast naming the variable', async () => {
  const mqtt = await loadComponent(byName('mqtt'));
  assert.throws(
    () => mqtt.checkConfig({ TELLY_MQTT_PORT: 'eighteen' }),
    (err) => isConfigError(err) && err.variable === 'TELLY_MQTT_PORT' && /port number/.test(err.message),
  );
  const http = await loadComponent(byName('http'));
  assert.throws(
    () => http.checkConfig({ TELLY_HTTP_TLS_CERT: '/c.pem' }),
    (err) => isConfigError(err) && err.variable === 'TELLY_HTTP_TLS_KEY',
  );
  for (const entry of COMPONENTS) {
    if (entry.enabled?.({}) ?? true) (await loadComponent(entry)).checkConfig({});
  }
});

test('the Influx sink runs only when INFLUX_URL is set, and then with its defaults', async () => {
  const influx = byName('telemetry-influx');
  assert.equal(influx.enabled?.({}), false);
  assert.equal(influx.enabled?.({ INFLUX_URL: 'http://influx:8086' }), true);
  (await loadComponent(influx)).checkConfig({ INFLUX_URL: 'http://influx:8086' });
});

test('every package with tables declares its own migration set, each under one name', async () => {
  const sets = new Map<string, string>();
  for (const entry of COMPONENTS) {
    for (const set of (await loadComponent(entry)).migrations) {
      assert.equal(sets.get(set.name), undefined, `${set.name} declared twice`);
      sets.set(set.name, entry.name);
    }
  }
  assert.deepEqual(Object.fromEntries(sets), {
    registry: 'registry',
    commands: 'commands',
    devices: 'devices',
    rules: 'rules',
    telemetry: 'telemetry-pg',
    api: 'api',
  });
});
