import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import mqtt from 'mqtt';
import { type Platform, provisionDevice, startPlatform } from '../testing/platform.ts';

let platform: Platform;
before(async () => {
  platform = await startPlatform();
});
after(async () => {
  assert.equal(await platform?.stop(), 0);
});

interface Command {
  id: string;
  status: string;
  result: unknown;
  reason: string | null;
}
const SEND = `mutation($t: ID!, $n: String!, $p: JSON, $ttl: String) {
  sendCommand(thingId: $t, name: $n, payload: $p, ttl: $ttl) { id status }
}`;
const COMMAND = 'query($id: ID!) { command(id: $id) { id status result reason } }';

test('a command sent while the device is offline is delivered when it reconnects, its result recorded; an expired one is not delivered', async () => {
  const device = await provisionDevice(platform);
  const status = async (id: string) =>
    (await platform.gql<{ command: Command }>(COMMAND, { id }, device.token)).command;

  const on = (
    await platform.gql<{ sendCommand: Command }>(
      SEND,
      { t: device.thingId, n: 'led', p: { state: 'ON', forSeconds: 60 }, ttl: '5m' },
      device.token,
    )
  ).sendCommand;
  assert.equal(on.status, 'PENDING');
  const stale = (
    await platform.gql<{ sendCommand: Command }>(
      SEND,
      { t: device.thingId, n: 'led', p: { state: 'OFF' }, ttl: '1s' },
      device.token,
    )
  ).sendCommand;
  await waitFor(async () => (await status(stale.id)).status === 'EXPIRED', {
    timeoutMs: 10_000,
    what: 'the 1 s command expired',
  });

  // the device comes online and subscribes to its command topic
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const received: { id: string; name: string; payload: unknown }[] = [];
  client.on('message', (topic, payload) => {
    assert.equal(topic, `things/${device.thingId}/commands`);
    received.push(JSON.parse(payload.toString()));
  });
  await client.subscribeAsync(`things/${device.thingId}/commands`, { qos: 1 });
  await waitFor(() => received.length > 0, { timeoutMs: 10_000, what: 'the pending command delivered' });
  assert.deepEqual(
    received.map((c) => c.id),
    [on.id],
    'only the command still within its TTL',
  );
  assert.deepEqual(received[0]?.payload, { state: 'ON', forSeconds: 60 });
  await waitFor(async () => (await status(on.id)).status === 'DELIVERED', {
    timeoutMs: 10_000,
    what: 'DELIVERED',
  });

  await client.publishAsync(
    `things/${device.thingId}/commands/${on.id}/result`,
    JSON.stringify({ status: 'succeeded', result: { led: 'on' } }),
    { qos: 1 },
  );
  await waitFor(async () => (await status(on.id)).status === 'SUCCEEDED', {
    timeoutMs: 10_000,
    what: 'SUCCEEDED',
  });
  assert.deepEqual((await status(on.id)).result, { led: 'on' });

  // while connected, a new command arrives at once; a failure report is recorded with its reason
  const off = (
    await platform.gql<{ sendCommand: Command }>(
      SEND,
      { t: device.thingId, n: 'led', p: { state: 'OFF' } },
      device.token,
    )
  ).sendCommand;
  await waitFor(() => received.some((c) => c.id === off.id), { timeoutMs: 10_000, what: 'live delivery' });
  await client.publishAsync(
    `things/${device.thingId}/commands/${off.id}/result`,
    JSON.stringify({ status: 'failed', reason: 'relay stuck' }),
    { qos: 1 },
  );
  await waitFor(async () => (await status(off.id)).reason === 'relay stuck', {
    timeoutMs: 10_000,
    what: 'FAILED',
  });
  assert.equal((await status(off.id)).status, 'FAILED');
  await client.endAsync();

  const { thing } = await platform.gql<{
    thing: { commands: { totalCount: number; nodes: { id: string }[] } };
  }>(
    'query($id: ID!) { thing(id: $id) { commands { totalCount nodes { id } } } }',
    { id: device.thingId },
    device.token,
  );
  assert.equal(thing.commands.totalCount, 3);
  assert.deepEqual(
    thing.commands.nodes.map((c) => c.id),
    [off.id, stale.id, on.id],
    'newest first',
  );
});

test('a persistent session (clean=false) gets a command marked DELIVERED once it PUBACKs it', async () => {
  const device = await provisionDevice(platform, `persistent-${Date.now()}@example.com`);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    clientId: `dev-${device.thingId}`,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  try {
    const got = new Promise<string>((resolve) =>
      client.once('message', (_t, payload) => resolve(JSON.parse(payload.toString()).id)),
    );
    await client.subscribeAsync(`things/${device.thingId}/commands`, { qos: 1 });
    const { sendCommand } = await platform.gql<{ sendCommand: Command }>(
      SEND,
      { t: device.thingId, n: 'reboot' },
      device.token,
    );
    assert.equal(await got, sendCommand.id);
    await waitFor(
      async () =>
        (await platform.gql<{ command: Command }>(COMMAND, { id: sendCommand.id }, device.token)).command
          .status === 'DELIVERED',
      { timeoutMs: 10_000, what: 'DELIVERED after PUBACK' },
    );
  } finally {
    await client.endAsync();
  }
});
