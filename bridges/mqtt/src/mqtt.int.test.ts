import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  type BridgeTestStack,
  type ProvisionedThing,
  selfSignedCertificate,
  startBridgeTestStack,
} from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { createMetricsRegistry } from '@telly/runtime';
import { messageSubject, parseSubject, STREAMS } from '@telly/schemas';
import mqtt from 'mqtt';
import { type MqttBridge, startMqttBridge } from './bridge.ts';
import { mosquittoPub } from './testing/bridge.ts';

const run = promisify(execFile);
let stack: BridgeTestStack;
let one: MqttBridge;
let two: MqttBridge;

async function bridge(id: string): Promise<MqttBridge> {
  return startMqttBridge({
    nc: stack.nc,
    logger: stack.logger,
    metrics: createMetricsRegistry(`mqtt-${id}`),
    config: { port: 0, wsPort: 0, tls: undefined },
    id,
  });
}

before(async () => {
  stack = await startBridgeTestStack();
  [one, two] = [await bridge('one'), await bridge('two')];
});
after(async () => {
  await one?.close();
  await two?.close();
  await stack?.stop();
});

/** An MQTT 3.1.1 client logged in as the thing, not reconnecting. */
const connectThing = (url: string, thing: ProvisionedThing) =>
  mqtt.connectAsync(url, {
    username: thing.thingId,
    password: thing.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });

const pub = (port: number, user: string, key: string, topic: string, message: string) =>
  mosquittoPub(port, { thingId: user, key }, topic, ['-m', message]);

async function messagesOf(tenantId: string): Promise<{ subject: string; body: string; seq: number }[]> {
  const jsm = await jetstreamManager(stack.nc);
  const out = [];
  const info = await jsm.streams.info(STREAMS.MESSAGES.name);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.MESSAGES.name, { seq }).catch(() => null);
    const subject = m && parseSubject(m.subject);
    if (m && subject?.kind === 'msg' && subject.tenant === tenantId) {
      out.push({ subject: m.subject, body: m.string(), seq });
    }
  }
  return out;
}

test('mosquitto_pub QoS1 over TCP: SenML JSON and plain JSON land in the log; refusals as specified', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const other = await stack.channel(tenantId);
  const thing = await stack.thing(tenantId, [channelId]);
  const port = one.ports.tcp;

  await pub(
    port,
    thing.thingId,
    thing.key,
    `channels/${channelId}/messages/soil`,
    '[{"bn":"esp:","n":"moisture","u":"%","v":41}]',
  );
  await pub(
    port,
    thing.thingId,
    thing.key,
    `channels/${channelId}/messages`,
    '{"temperature": 21.5, "led": true}',
  );
  let stored = await messagesOf(tenantId);
  assert.equal(stored.length, 2, 'both acked messages are in the log');
  assert.equal(
    stored[0]?.subject,
    messageSubject({ tenant: tenantId, channel: channelId, thing: thing.thingId, subtopic: ['soil'] }),
  );
  assert.equal(JSON.parse(stored[0]?.body ?? '')[0].n, 'esp:moisture');

  await assert.rejects(
    pub(port, thing.thingId, 'wrong-key', `channels/${channelId}/messages`, '[]'),
    /not authori[sz]ed|bad user ?name or password|Connection Refused/i,
  );
  // a channel the thing is not connected to: the connection is closed, nothing is stored
  await pub(port, thing.thingId, thing.key, `channels/${other}/messages`, '[{"n":"x","v":1}]').catch(
    () => {},
  );
  // malformed SenML: never PUBACKed, since it will not be stored (the connection is closed), and
  // recorded as rejected
  await assert.rejects(
    pub(port, thing.thingId, thing.key, `channels/${channelId}/messages`, '[{"n":"x","v":"warm"}]'),
    /connection was lost/i,
  );
  stored = await messagesOf(tenantId);
  assert.equal(stored.length, 2, 'refused publishes are not in the log');
  await waitFor(async () => (await stack.rejections(thing)) >= 2, {
    timeoutMs: 5_000,
    what: 'rejected events for the forbidden and the malformed publish',
  });
});

test('a subscriber on instance one receives what a thing publishes on instance two (mosquitto_sub, MQTT.js over WebSocket)', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const sensor = await stack.thing(tenantId, [channelId]);
  const dashboard = await stack.thing(tenantId, [channelId]);

  const sub = spawn('mosquitto_sub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(one.ports.tcp),
    '-q',
    '1',
    '-u',
    dashboard.thingId,
    '-P',
    dashboard.key,
    '-t',
    `channels/${channelId}/messages/#`,
    '-v',
    '-C',
    '1',
    '-W',
    '10',
  ]);
  let output = '';
  sub.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => sub.once('exit', resolve));
  await waitFor(() => one.broker.sessions.size > 0, { timeoutMs: 5_000, what: 'mosquitto_sub connected' });

  const ws = await connectThing(`ws://127.0.0.1:${two.ports.ws}/mqtt`, sensor);
  // the channel feed behind the subscription starts asynchronously: publish until it delivers
  await waitFor(
    async () => {
      await ws.publishAsync(`channels/${channelId}/messages/air`, '[{"n":"temp","u":"Cel","v":22.5}]', {
        qos: 1,
      });
      return sub.exitCode !== null;
    },
    { timeoutMs: 8_000, intervalMs: 100, what: 'mosquitto_sub received a message' },
  );
  await ws.endAsync();
  assert.equal(await exited, 0, `mosquitto_sub got nothing: ${output}`);
  const [topic, payload] = output.trim().split(' ');
  assert.equal(topic, `channels/${channelId}/messages/air`);
  assert.equal(JSON.parse(payload ?? '')[0].v, 22.5);
});

test('subscribing to a channel the thing is not connected to is refused (SUBACK 0x80)', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const other = await stack.channel(tenantId);
  const thing = await stack.thing(tenantId, [channelId]);
  const client = await connectThing(`mqtt://127.0.0.1:${one.ports.tcp}`, thing);
  try {
    // MQTT.js turns a 0x80 grant into an error carrying the SUBACK
    const suback = await client
      .subscribeAsync([`channels/${other}/messages/#`, `channels/${channelId}/messages`], { qos: 1 })
      .then(() => assert.fail('the forbidden subscription was granted'))
      .catch((err: { packet?: { granted?: number[] } }) => err.packet);
    assert.deepEqual(suback?.granted, [128, 1]);
  } finally {
    await client.endAsync();
  }
});

test("a rotated key disconnects the thing's live session within a second and cannot reconnect", async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const client = await connectThing(`mqtt://127.0.0.1:${one.ports.tcp}`, thing);
  const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
  const started = Date.now();
  await stack.change(thing, 'rotate-key');
  assert.ok((await closed) - started < 1_000, 'disconnected within a second');
  await assert.rejects(pub(one.ports.tcp, thing.thingId, thing.key, `channels/${channelId}/messages`, '[]'));
});

test('SenML CBOR from mosquitto_pub, over TLS with a self-signed certificate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'telly-mqtt-tls-'));
  try {
    const { certFile: cert, keyFile: key } = await selfSignedCertificate(dir);
    const pack = join(dir, 'pack.cbor');
    // [{0: "temp", 2: 21.5}]: SenML CBOR uses integer labels (n = 0, v = 2)
    await writeFile(pack, Buffer.from('81a2006474656d7002fb4035800000000000', 'hex'));
    const tlsBridge = await startMqttBridge({
      nc: stack.nc,
      logger: stack.logger,
      metrics: createMetricsRegistry('mqtt-tls'),
      config: { port: 0, wsPort: 0, tls: { port: 0, certFile: cert, keyFile: key } },
      id: 'tls',
    });
    try {
      const { tenantId, channelId } = await stack.tenant();
      const thing = await stack.thing(tenantId, [channelId]);
      await run('mosquitto_pub', [
        '-h',
        'localhost',
        '-p',
        String(tlsBridge.ports.tls),
        '--cafile',
        cert,
        '-q',
        '1',
        '-u',
        thing.thingId,
        '-P',
        thing.key,
        '-t',
        `channels/${channelId}/messages`,
        '-f',
        pack,
      ]);
      const stored = await messagesOf(tenantId);
      assert.equal(stored.length, 1);
      assert.deepEqual(
        JSON.parse(stored[0]?.body ?? '').map((r: { n: string; v: number }) => [r.n, r.v]),
        [['temp', 21.5]],
        'stored as resolved SenML JSON',
      );
    } finally {
      await tlsBridge.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
