// Bounds on what a connection may send, before and after it logs in (issue #13): the packet size
// (TCP, TLS and WebSocket, frames included), the time to send CONNECT, and how many connections
// one address may hold open without logging in.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import {
  type BridgeTestStack,
  selfSignedCertificate,
  startBridgeTestStack,
} from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { createMetricsRegistry } from '@telly/runtime';
import { eventFilter } from '@telly/schemas';
import type { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import type { MqttBridge, MqttBridgeOptions } from './bridge.ts';
import { mosquittoPub, startTestBridge } from './testing/bridge.ts';
import { fixedHeader, rawConnect, rawLogin } from './testing/raw-mqtt.ts';
import { connectAs } from './testing/thing-client.ts';

const MAX_PACKET_BYTES = 4096;
const FORTY_MIB = 40 * 1024 * 1024;
let stack: BridgeTestStack;
/** Small packets, a CONNECT timeout long enough not to interfere. */
let bounded: MqttBridge;
/** A short CONNECT timeout. */
let hasty: MqttBridge;
/** Three unauthenticated connections per address. */
let capped: MqttBridge;

const registries = new Map<string, Registry>();
const start = (id: string, config: Partial<MqttBridgeOptions['config']>) => {
  const metrics = createMetricsRegistry(`mqtt-${id}`);
  registries.set(id, metrics);
  return startTestBridge(stack, id, config, { metrics });
};

/** `telly_mqtt_refused_connections_total` of a bridge, by reason. */
async function refusedOf(id: string): Promise<Record<string, number>> {
  const metric = registries.get(id)?.getSingleMetric('telly_mqtt_refused_connections_total');
  const values = (await metric?.get())?.values ?? [];
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

let certDir: string;
let certFile: string;

before(async () => {
  stack = await startBridgeTestStack();
  certDir = await mkdtemp(join(tmpdir(), 'telly-mqtt-limits-'));
  const certificate = await selfSignedCertificate(certDir);
  certFile = certificate.certFile;
  bounded = await start('bounded', {
    maxPacketBytes: MAX_PACKET_BYTES,
    connectTimeoutMs: 60_000,
    tls: { port: 0, ...certificate },
  });
  hasty = await start('hasty', { connectTimeoutMs: 300, tls: { port: 0, ...certificate } });
  capped = await start('capped', {
    maxPendingPerAddress: 3,
    connectTimeoutMs: 60_000,
    tls: { port: 0, ...certificate },
  });
});
after(async () => {
  for (const bridge of [bounded, hasty, capped]) await bridge?.close();
  await stack?.stop();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

/** A bound on waiting for the broker to act: not a synchronisation, the assertion's deadline. */
const within = <T>(ms: number, what: string, event: Promise<T>) =>
  Promise.race([
    event,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref(),
    ),
  ]);

test('an unauthenticated client announcing a 40 MiB packet over TCP is closed from its header, nothing answered', async () => {
  for (const header of [fixedHeader(0x10, FORTY_MIB), fixedHeader(0x30, FORTY_MIB)]) {
    const raw = await rawConnect(bounded.ports.tcp);
    raw.socket.write(Buffer.concat([header, Buffer.alloc(1024)]));
    await within(2_000, 'closed', raw.closed);
    assert.equal(raw.received().length, 0, 'no CONNACK or anything else');
  }
  assert.equal((await refusedOf('bounded'))['packet-too-large'], 2, 'counted, since nothing is recorded');
});

test('the same over TLS: closed from the header', async () => {
  const socket = connectTls({
    host: '127.0.0.1',
    port: bounded.ports.tls as number,
    ca: await readFile(certFile),
    servername: 'localhost',
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await once(socket, 'secureConnect');
  socket.write(Buffer.concat([fixedHeader(0x10, FORTY_MIB), Buffer.alloc(1024)]));
  await within(2_000, 'closed', closed);
});

test('a logged-in thing sending a packet over the limit is closed without PUBACK and the rejection recorded', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const device = await connectAs(`mqtt://127.0.0.1:${bounded.ports.tcp}`, thing);
  const big = JSON.stringify([{ n: 'blob', vs: 'x'.repeat(MAX_PACKET_BYTES) }]);
  assert.equal(await device.publish(`channels/${channelId}/messages`, big, 1), 'closed');
  await device.client.endAsync(true);
  await waitFor(async () => (await stack.rejections(thing)) >= 1, {
    timeoutMs: 5_000,
    what: 'the rejection',
  });
  const [rejected] = await stack.events(
    eventFilter({ tenant: tenantId, type: 'rejected', thing: thing.thingId }),
  );
  assert.equal(rejected?.type === 'message.rejected' && rejected.data.reason, 'payload-too-large');

  const file = join(certDir, 'big.json');
  await writeFile(file, big);
  await assert.rejects(
    mosquittoPub(bounded.ports.tcp, thing, `channels/${channelId}/messages`, ['-f', file]),
    { stderr: /connection was lost/i },
    'mosquitto_pub sees the connection lost, never a PUBACK',
  );
});

test('over WebSocket: a frame over the limit is refused from its header (close 1009), and so is a packet split over small frames', async () => {
  const url = `ws://127.0.0.1:${bounded.ports.ws}/mqtt`;
  const frame = new WebSocket(url, 'mqtt');
  await new Promise((resolve, reject) => frame.once('open', resolve).once('error', reject));
  const code = new Promise<number>((resolve) => frame.once('close', resolve));
  frame.send(Buffer.concat([fixedHeader(0x10, FORTY_MIB), Buffer.alloc(MAX_PACKET_BYTES * 4)]));
  assert.equal(await within(2_000, 'closed', code), 1009, 'message too big');

  const split = new WebSocket(url, 'mqtt');
  await new Promise((resolve, reject) => split.once('open', resolve).once('error', reject));
  const closed = new Promise<void>((resolve) => split.once('close', () => resolve()));
  split.send(fixedHeader(0x10, FORTY_MIB));
  split.send(Buffer.alloc(1024));
  await within(2_000, 'closed', closed);
});

test('a connection that sends no CONNECT (or no TLS handshake) is closed after the CONNECT timeout', async () => {
  for (const port of [hasty.ports.tcp, hasty.ports.tls as number]) {
    const raw = await rawConnect(port);
    const started = Date.now();
    await within(3_000, 'closed', raw.closed);
    assert.ok(Date.now() - started >= 200, 'not before the timeout');
  }
  assert.deepEqual(await refusedOf('hasty'), { 'connect-timeout': 2 });
});

test('at most three unauthenticated connections per address; logging in or leaving frees a slot', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const login = (clientId: string) =>
    rawLogin(capped.ports.tcp, { clientId, username: thing.thingId, password: thing.key });
  const idle = [await rawConnect(capped.ports.tcp), await rawConnect(capped.ports.tcp)];
  const device = await connectAs(`mqtt://127.0.0.1:${capped.ports.tcp}`, thing);
  const third = await rawConnect(capped.ports.tcp);
  const refused = await rawConnect(capped.ports.tcp);
  await within(2_000, 'the fourth closed at once', refused.closed);
  assert.equal(await login('cap-refused'), false, 'still at the cap');
  assert.equal(device.client.connected, true, 'a logged-in connection does not count');

  const overTls = await rawConnect(capped.ports.tls as number);
  await within(2_000, 'a TCP connection to the TLS port counted too, before its handshake', overTls.closed);
  assert.deepEqual(await refusedOf('capped'), { 'too-many-unauthenticated': 3 });

  third.socket.destroy();
  // the broker sees the close a moment after the client: retry until it has
  await waitFor(() => login('cap-admitted'), {
    timeoutMs: 5_000,
    what: 'a slot freed by a leaving connection',
  });
  for (const raw of idle) raw.socket.destroy();
  await device.client.endAsync();
});

test('stopping the bridge does not wait for connections that never logged in', async () => {
  const stopping = await start('stopping', { connectTimeoutMs: 60_000 });
  const idle = await rawConnect(stopping.ports.tcp);
  await within(2_000, 'the bridge closed', stopping.close());
  await within(2_000, 'the idle connection closed', idle.closed);
});
