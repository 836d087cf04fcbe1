// MQTT sessions belong to a thing (issue #13): a client id chosen by another thing never reaches
// a thing's session, queued deliveries are checked again when sent, MQTT 3.1.1's rule on empty
// client ids, and command results bound to the thing that reports them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  type BridgeTestStack,
  type ProvisionedThing,
  startBridgeTestStack,
} from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { eventFilter } from '@telly/schemas';
import type { MqttBridge } from './bridge.ts';
import { startTestBridge } from './testing/bridge.ts';
import { connectPacket, rawConnect } from './testing/raw-mqtt.ts';
import { connectAs, type ThingClient } from './testing/thing-client.ts';

let stack: BridgeTestStack;
let bridge: MqttBridge;

before(async () => {
  stack = await startBridgeTestStack();
  bridge = await startTestBridge(stack, 'sessions');
});
after(async () => {
  await bridge?.close();
  await stack?.stop();
});

type Session = ThingClient;

/** Logs the thing in with `clientId` over TCP. */
const session = (thing: ProvisionedThing, clientId: string, clean: boolean): Promise<Session> =>
  connectAs(`mqtt://127.0.0.1:${bridge.ports.tcp}`, thing, { clientId, clean });

/**
 * A round trip after the CONNACK: queued deliveries are written before the broker reads any
 * packet after CONNECT, so once this SUBACK is in, everything queued has arrived.
 */
const roundTrip = (s: Session, thing: ProvisionedThing) =>
  s.client.subscribeAsync(`things/${thing.thingId}/commands`, { qos: 1 });

/** Publishes as the watcher and waits until the watcher has it back: queued for offline sessions too. */
async function publishWhileAway(watcher: Session, channelId: string, name: string): Promise<void> {
  await watcher.client.publishAsync(`channels/${channelId}/messages`, JSON.stringify([{ n: name, v: 1 }]), {
    qos: 1,
  });
  await waitFor(() => watcher.received.includes(name), { timeoutMs: 5_000, what: `${name} delivered` });
}

/**
 * A tenant where `owner` has a persistent session under `clientId`, offline, with one message
 * (`queued`) waiting in it; and a thing of another tenant.
 */
async function ownerAway(clientId: string) {
  const one = await stack.tenant();
  const two = await stack.tenant();
  const owner = await stack.thing(one.tenantId, [one.channelId]);
  const watcher = await stack.thing(one.tenantId, [one.channelId]);
  const intruder = await stack.thing(two.tenantId, [two.channelId]);
  const channelTopic = `channels/${one.channelId}/messages/#`;
  const first = await session(owner, clientId, false);
  await first.client.subscribeAsync(channelTopic, { qos: 1 });
  await first.client.endAsync();
  const watching = await session(watcher, `watcher-${randomUUID()}`, true);
  await watching.client.subscribeAsync(channelTopic, { qos: 1 });
  await publishWhileAway(watching, one.channelId, 'queued');
  await watching.client.endAsync();
  return { owner, intruder, channelId: one.channelId };
}

test('another thing connecting with the same client id resumes nothing and receives nothing of the session', async () => {
  const clientId = `shared-${randomUUID()}`;
  const { owner, intruder } = await ownerAway(clientId);
  const resuming = await session(intruder, clientId, false);
  assert.equal(resuming.sessionPresent, false, "the owner's session is not resumed by another thing");
  await roundTrip(resuming, intruder);
  assert.deepEqual(resuming.received, [], "nothing of the owner's queue reaches another thing");
  await resuming.client.endAsync();

  const back = await session(owner, clientId, false);
  assert.equal(back.sessionPresent, true);
  await roundTrip(back, owner);
  assert.deepEqual(back.received, ['queued'], 'the owner still gets what was queued for it');
  await back.client.endAsync();
});

test("another thing's clean session with the same client id does not wipe the session", async () => {
  const clientId = `shared-${randomUUID()}`;
  const { owner, intruder } = await ownerAway(clientId);
  const wiping = await session(intruder, clientId, true);
  await wiping.client.endAsync();

  const back = await session(owner, clientId, false);
  assert.equal(back.sessionPresent, true, "the owner's session outlived another thing's clean session");
  await roundTrip(back, owner);
  assert.deepEqual(back.received, ['queued'], 'and still holds what was queued for it');
  await back.client.endAsync();
});

test('another thing connecting with the same client id does not take over the live connection', async () => {
  const clientId = `shared-${randomUUID()}`;
  const { owner, intruder, channelId } = await ownerAway(clientId);
  const live = await session(owner, clientId, false);
  const takingOver = await session(intruder, clientId, true);
  // the broker closes a taken-over connection before it answers the new one's CONNECT
  assert.equal(
    await live.publish(`channels/${channelId}/messages`, '[{"n":"still-here","v":1}]', 1),
    'acked',
    'a live session is not taken over by another thing',
  );
  await live.client.endAsync();
  await takingOver.client.endAsync();
});

test('the same thing with the same client id still resumes and takes over its own session', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const clientId = `own-${randomUUID()}`;
  const first = await session(thing, clientId, false);
  await first.client.subscribeAsync(`channels/${channelId}/messages/#`, { qos: 1 });
  const second = await session(thing, clientId, false);
  assert.equal(second.sessionPresent, true);
  await first.closed; // MQTT-3.1.4-2: the earlier connection with that id is closed
  // the resumed subscription is fed, though the connection it replaced has left its channel
  const sender = await session(await stack.thing(tenantId, [channelId]), `sender-${randomUUID()}`, true);
  await waitFor(
    async () => {
      await sender.publish(`channels/${channelId}/messages`, '[{"n":"after-takeover","v":1}]', 1);
      return second.received.includes('after-takeover');
    },
    { timeoutMs: 5_000, intervalMs: 100, what: 'the resumed session receives the channel' },
  );
  await sender.client.endAsync();
  await second.client.endAsync();
});

test('a delivery queued for an offline session is checked again when sent: a channel disconnected meanwhile delivers nothing', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const owner = await stack.thing(tenantId, [channelId]);
  const watcher = await stack.thing(tenantId, [channelId]);
  const clientId = `acl-${randomUUID()}`;
  const channelTopic = `channels/${channelId}/messages/#`;

  const first = await session(owner, clientId, false);
  await first.client.subscribeAsync(channelTopic, { qos: 1 });
  await first.client.endAsync();
  const watching = await session(watcher, `watcher-${randomUUID()}`, true);
  await watching.client.subscribeAsync(channelTopic, { qos: 1 });
  await publishWhileAway(watching, channelId, 'before-disconnect');
  await stack.change(owner, { disconnect: channelId });

  const back = await session(owner, clientId, false);
  assert.equal(back.sessionPresent, true);
  await roundTrip(back, owner);
  assert.deepEqual(back.received, [], 'the queued message of a channel it left is not delivered');
  await back.client.endAsync();
  await watching.client.endAsync();
});

test('an empty client id with CleanSession=0 gets CONNACK 0x02 (identifier rejected); with CleanSession=1 it is accepted', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const login = { clientId: '', username: thing.thingId, password: thing.key };

  const persistent = await rawConnect(bridge.ports.tcp);
  persistent.socket.write(connectPacket({ ...login, clean: false }));
  await waitFor(() => persistent.received().length >= 4, { timeoutMs: 5_000, what: 'a CONNACK' });
  assert.deepEqual([...persistent.received()], [0x20, 0x02, 0x00, 0x02]);
  await persistent.closed;

  const clean = await rawConnect(bridge.ports.tcp);
  clean.socket.write(connectPacket({ ...login, clean: true }));
  await waitFor(() => clean.received().length >= 4, { timeoutMs: 5_000, what: 'a CONNACK' });
  assert.deepEqual([...clean.received()], [0x20, 0x02, 0x00, 0x00]);
  clean.socket.end();
  await clean.closed;
});

test("a thing cannot settle another thing's command: on its own topic the result is its own; on the other's it is refused", async () => {
  const one = await stack.tenant();
  const two = await stack.tenant();
  const addressed = await stack.thing(one.tenantId, [one.channelId]);
  const other = await stack.thing(two.tenantId, [two.channelId]);
  const commandId = await stack.requestCommand(one.tenantId, addressed.thingId);
  const commandsOfAddressed = eventFilter({
    tenant: one.tenantId,
    type: 'command',
    thing: addressed.thingId,
  });

  const s = await session(other, `results-${randomUUID()}`, true);
  await s.client.publishAsync(
    `things/${other.thingId}/commands/${commandId}/result`,
    '{"status":"failed","reason":"not mine"}',
    { qos: 1 },
  );
  await waitFor(
    async () =>
      (await stack.events(eventFilter({ tenant: two.tenantId, type: 'command', thing: other.thingId })))
        .length > 0,
    { timeoutMs: 5_000, what: "the result recorded under the reporting thing's tenant" },
  );
  const [recorded] = await stack.events(
    eventFilter({ tenant: two.tenantId, type: 'command', thing: other.thingId }),
  );
  assert.equal(recorded?.type, 'command.failed');
  assert.equal(recorded?.tenantId, two.tenantId);
  assert.deepEqual(recorded?.type === 'command.failed' && [recorded.data.thingId, recorded.data.commandId], [
    other.thingId,
    commandId,
  ]);

  assert.equal(
    await s.publish(`things/${addressed.thingId}/commands/${commandId}/result`, '{"status":"succeeded"}', 1),
    'closed',
    "a result on another thing's topic is not PUBACKed: the connection is closed",
  );
  await s.client.endAsync(true);
  await waitFor(async () => (await stack.rejections(other)) >= 1, {
    timeoutMs: 5_000,
    what: 'the refused result recorded as rejected',
  });
  assert.deepEqual(
    await stack.events(commandsOfAddressed),
    [],
    "nothing is recorded about the addressed thing's command",
  );
});
