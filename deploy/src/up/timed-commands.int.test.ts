// A timed command across a restart of everything: `telly up` (nats-server, Postgres, every
// component) is stopped while the command runs and started again; the revert still turns the
// LED off, once, and the command history shows the schedule. A cancelled revert is never sent.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { waitFor } from '@telly/harness';
import mqtt from 'mqtt';
import { type Platform, provisionDevice, startPlatform } from '../testing/platform.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'telly-timed-'));
let platform: Platform | undefined;
after(async () => {
  await platform?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface Command {
  id: string;
  status: string;
  revertAt: string | null;
  revert: { id: string; status: string; payload: unknown } | null;
}
const SEND = `mutation($t: ID!, $p: JSON, $d: String, $r: JSON) {
  sendCommand(thingId: $t, name: "led", payload: $p, duration: $d, revertPayload: $r) {
    id status revertAt revert { id status payload }
  }
}`;
const COMMAND = 'query($id: ID!) { command(id: $id) { id status revertAt revert { id status payload } } }';

async function device(p: Platform, thingId: string, key: string) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.ports.mqtt}`, {
    username: thingId,
    password: key,
    protocolVersion: 4,
    reconnectPeriod: 0,
    clean: false,
    clientId: `led-${thingId.slice(-8)}`,
  });
  const received: { id: string; payload: unknown; at: number }[] = [];
  client.on('message', (_topic, payload) =>
    received.push({ ...JSON.parse(payload.toString()), at: Date.now() }),
  );
  await client.subscribeAsync(`things/${thingId}/commands`, { qos: 1 });
  return { client, received };
}

test('a timed command turns the LED off after its duration across a restart of telly up', async () => {
  platform = await startPlatform({ TELLY_DATA_DIR: dataDir }, { healthyWithinMs: 180_000 });
  const env = platform.env;
  const owner = await provisionDevice(platform);
  let led = await device(platform, owner.thingId, owner.key);

  const { sendCommand: timed } = await platform.gql<{ sendCommand: Command }>(
    SEND,
    { t: owner.thingId, p: { state: 'ON' }, d: '6s', r: { state: 'OFF' } },
    owner.token,
  );
  assert.equal(timed.revert?.status, 'SCHEDULED');
  assert.deepEqual(timed.revert?.payload, { state: 'OFF' });
  const revertAt = Date.parse(timed.revertAt ?? '');
  assert.ok(revertAt > Date.now(), 'the revert is in the future');
  await waitFor(() => led.received.some((c) => c.id === timed.id), { what: 'the ON command delivered' });

  // a second timed command, cancelled: its revert must never arrive
  const { sendCommand: other } = await platform.gql<{ sendCommand: Command }>(
    SEND,
    { t: owner.thingId, p: { state: 'BLINK' }, d: '4s', r: { state: 'STEADY' } },
    owner.token,
  );
  const { cancelCommand } = await platform.gql<{ cancelCommand: Command }>(
    'mutation($id: ID!) { cancelCommand(id: $id) { id revert { status } } }',
    { id: other.id },
    owner.token,
  );
  assert.equal(cancelCommand.revert?.status, 'CANCELLED');

  // everything stops before the revert is due, and starts again
  await led.client.endAsync();
  assert.equal(await platform.stop(), 0);
  platform = await startPlatform(env, { healthyWithinMs: 180_000 });
  led = await device(platform, owner.thingId, owner.key);
  const p = platform;
  const off = await waitFor(() => led.received.find((c) => c.id === timed.revert?.id), {
    what: 'the OFF command delivered after the restart',
    timeoutMs: 60_000,
  });
  assert.deepEqual(off.payload, { state: 'OFF' });
  assert.ok(off.at >= revertAt, 'not before the duration had passed');
  await waitFor(
    async () =>
      (await p.gql<{ command: Command }>(COMMAND, { id: timed.id }, owner.token)).command.revert?.status ===
      'DELIVERED',
    { what: 'the revert DELIVERED in the history' },
  );
  const history = (await p.gql<{ command: Command }>(COMMAND, { id: timed.id }, owner.token)).command;
  assert.equal(Date.parse(history.revertAt ?? ''), revertAt);
  assert.ok(!led.received.some((c) => c.id === other.revert?.id), 'the cancelled revert was sent');
  assert.equal(led.received.filter((c) => c.id === timed.revert?.id).length, 1, 'OFF exactly once');
  await assert.rejects(
    p.gql('mutation($id: ID!) { cancelCommand(id: $id) { id } }', { id: timed.id }, owner.token),
    /VALIDATION_FAILED|no scheduled command/,
  );
  await led.client.endAsync();
});
