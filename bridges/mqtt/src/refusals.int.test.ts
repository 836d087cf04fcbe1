// MQTT 3.1.1 has no negative PUBACK (issue #14): a publish that will not be stored is never
// PUBACKed — the connection is closed — and it is recorded as a `message.rejected` the owner can
// see. At QoS 0 it is dropped and recorded, and the connection stays.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  type BridgeTestStack,
  type ProvisionedThing,
  startBridgeTestStack,
} from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { eventFilter, messageFilters, type RejectionReason, STREAMS } from '@telly/schemas';
import type { MqttBridge } from './bridge.ts';
import { mosquittoPub, startTestBridge } from './testing/bridge.ts';
import { connectAs } from './testing/thing-client.ts';

/** The bridge's message limit here, so an oversize message is small. */
const MAX_PAYLOAD_BYTES = 1024;
let stack: BridgeTestStack;
let bridge: MqttBridge;

before(async () => {
  stack = await startBridgeTestStack();
  bridge = await startTestBridge(stack, 'refusals', {}, { maxPayloadBytes: MAX_PAYLOAD_BYTES });
});
after(async () => {
  await bridge?.close();
  await stack?.stop();
});

const url = () => `mqtt://127.0.0.1:${bridge.ports.tcp}`;

/** Reasons of the thing's `message.rejected` events, once `count` of them are in. */
async function rejectionsOf(thing: ProvisionedThing, count: number): Promise<RejectionReason[]> {
  await waitFor(async () => (await stack.rejections(thing)) >= count, {
    timeoutMs: 5_000,
    what: `${count} rejections recorded`,
  });
  const events = await stack.events(
    eventFilter({ tenant: thing.tenantId, type: 'rejected', thing: thing.thingId }),
  );
  return events.map((e) => (e.type === 'message.rejected' ? e.data.reason : ('unauthenticated' as const)));
}

/** How many messages of the tenant are in MESSAGES. */
async function storedOf(tenantId: string): Promise<number> {
  const jsm = await jetstreamManager(stack.nc);
  const [filter] = messageFilters({ tenant: tenantId });
  const info = await jsm.streams.info(STREAMS.MESSAGES.name, { subjects_filter: filter });
  return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
}

const cases: {
  what: string;
  topic: (channelId: string) => string;
  payload: string;
  reason: RejectionReason;
}[] = [
  {
    what: 'malformed SenML',
    topic: (c) => `channels/${c}/messages`,
    payload: '[{"n":"temp","v":"warm"}]',
    reason: 'invalid-payload',
  },
  {
    what: 'a payload over the message limit',
    topic: (c) => `channels/${c}/messages`,
    payload: JSON.stringify([{ n: 'blob', vs: 'x'.repeat(MAX_PAYLOAD_BYTES) }]),
    reason: 'payload-too-large',
  },
  {
    what: '21.5 as plain text (read as SenML CBOR, and not a pack)',
    topic: (c) => `channels/${c}/messages`,
    payload: '21.5',
    reason: 'invalid-payload',
  },
  {
    what: '21.5 as application/json (a number is not an object of values)',
    topic: (c) => `channels/${c}/messages/ct/application_json`,
    payload: '21.5',
    reason: 'invalid-payload',
  },
  {
    what: 'a time in milliseconds (Date.now()), which no projection can store',
    topic: (c) => `channels/${c}/messages`,
    payload: '[{"n":"ms","t":1796110000000,"v":1}]',
    reason: 'invalid-payload',
  },
  {
    what: 'a topic outside channels/…',
    topic: () => 'sensors/kitchen/temperature',
    payload: '[{"n":"temp","v":21.5}]',
    reason: 'invalid-topic',
  },
];

for (const { what, topic, payload, reason } of cases) {
  test(`QoS 1, ${what}: no PUBACK, the connection is closed, recorded as ${reason}`, async () => {
    const { tenantId, channelId } = await stack.tenant();
    const thing = await stack.thing(tenantId, [channelId]);
    const device = await connectAs(url(), thing);
    assert.equal(await device.publish(topic(channelId), payload, 1), 'closed');
    await device.client.endAsync(true);
    assert.deepEqual(await rejectionsOf(thing, 1), [reason]);
    assert.equal(await storedOf(tenantId), 0, 'nothing stored');

    // the same device, publishing what can be stored, is acknowledged again
    const again = await connectAs(url(), thing);
    assert.equal(
      await again.publish(`channels/${channelId}/messages`, '[{"n":"temp","v":21.5}]', 1),
      'acked',
    );
    await again.client.endAsync();
  });

  test(`QoS 0, ${what}: dropped and recorded as ${reason}; the connection stays`, async () => {
    const { tenantId, channelId } = await stack.tenant();
    const thing = await stack.thing(tenantId, [channelId]);
    const device = await connectAs(url(), thing);
    await device.publish(topic(channelId), payload, 0);
    // a refusal waits for nothing, this PUBACK for JetStream: once it is in, the QoS 0 one was handled
    assert.equal(
      await device.publish(`channels/${channelId}/messages`, '[{"n":"temp","v":21.5}]', 1),
      'acked',
    );
    assert.equal(device.client.connected, true);
    await device.client.endAsync();
    assert.deepEqual(await rejectionsOf(thing, 1), [reason]);
    assert.equal(await storedOf(tenantId), 1, 'only the valid message is stored');
  });
}

test('mosquitto_pub -q 1 of a message that will not be stored fails: the connection is lost before any PUBACK', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const topic = `channels/${channelId}/messages`;
  await assert.rejects(mosquittoPub(bridge.ports.tcp, thing, topic, ['-m', '21.5']), {
    stderr: /connection was lost/i,
  });
  await mosquittoPub(bridge.ports.tcp, thing, topic, ['-m', '{"temperature": 21.5}']);
  assert.deepEqual(await rejectionsOf(thing, 1), ['invalid-payload']);
  assert.equal(await storedOf(tenantId), 1);
});
