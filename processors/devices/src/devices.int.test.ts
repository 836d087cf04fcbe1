import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { Publisher } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import {
  createEvent,
  INFERENCE_RESULT_PROTOCOL,
  messageSubject,
  type OfflineReason,
  type RejectionReason,
} from '@telly/schemas';
import { v7 } from 'uuid';
import { devicesMigrations } from './migrations.ts';
import { deviceEventsProjection, deviceMessagesProjection, pruneRejections } from './projection.ts';
import { DeviceStatusQueries } from './queries.ts';

const BOUNDS = { perThing: 3, maxAgeMs: 24 * 60 * 60 * 1_000 };

let stack: RuntimeTestStack;
let publisher: Publisher;
let queries: DeviceStatusQueries;
const tenant = v7();
const otherTenant = v7();

before(async () => {
  stack = await startRuntimeTestStack({ name: 'devices-test', migrations: [devicesMigrations] });
  publisher = new Publisher(jetstream(stack.nc));
  queries = new DeviceStatusQueries(stack.pool);
  await stack.run(deviceEventsProjection(stack.pool, BOUNDS));
  await stack.run(deviceMessagesProjection(stack.pool));
});
after(() => stack?.stop());

const presence = { protocol: 'mqtt' as const, remoteAddress: '203.0.113.7:51234' };

function online(thingId: string, at: number) {
  return publisher.publishEvent(
    createEvent(
      'thing.online',
      { tenantId: tenant, data: { thingId, ...presence } },
      { id: v7({ msecs: at }), now: at },
    ),
  );
}

function offline(thingId: string, at: number, reason: OfflineReason = 'disconnected') {
  return publisher.publishEvent(
    createEvent(
      'thing.offline',
      { tenantId: tenant, data: { thingId, ...presence, reason } },
      { id: v7({ msecs: at }), now: at },
    ),
  );
}

function rejected(
  at: number,
  options: { tenantId?: string; thingId?: string; reason?: RejectionReason; detail?: string } = {},
) {
  const data = {
    protocol: 'http' as const,
    reason: options.reason ?? 'invalid-payload',
    detail: options.detail ?? `refused at ${at}`,
    ...(options.thingId ? { thingId: options.thingId } : {}),
  };
  return publisher.publishEvent(
    createEvent(
      'message.rejected',
      { tenantId: options.tenantId ?? tenant, data },
      { id: v7({ msecs: at }), now: at },
    ),
  );
}

const untilStatus = (
  thingId: string,
  what: string,
  ok: (s: Awaited<ReturnType<DeviceStatusQueries['status']>>) => boolean,
) =>
  waitFor(
    async () => {
      const status = await queries.status(tenant, thingId);
      return ok(status) && status;
    },
    { what },
  );

describe('presence', () => {
  test('a thing is online after thing.online and offline after thing.offline, last seen then', async () => {
    const thing = v7();
    assert.deepEqual(await queries.status(tenant, thing), {
      online: false,
      lastSeenAt: null,
      lastMessageAt: null,
      protocol: null,
      offlineReason: null,
    });
    const t0 = Date.now() - 10_000;
    await online(thing, t0);
    const up = await untilStatus(thing, 'online', (s) => s.online);
    assert.equal(up.protocol, 'mqtt');
    assert.equal(up.lastSeenAt?.getTime(), t0);
    await offline(thing, t0 + 5_000, 'keepalive-timeout');
    const down = await untilStatus(thing, 'offline', (s) => !s.online);
    assert.equal(down.lastSeenAt?.getTime(), t0 + 5_000);
    assert.equal(down.offlineReason, 'keepalive-timeout');
    assert.equal(
      await queries.status(otherTenant, thing).then((s) => s.online),
      false,
      'bound to the tenant',
    );
  });

  test('the latest event by time wins, whatever order they arrive in; a take-over keeps it online', async () => {
    const thing = v7();
    const t0 = Date.now() - 60_000;
    await offline(thing, t0 + 2_000);
    await online(thing, t0); // older: arrives late, changes nothing
    await online(thing, t0 + 3_000);
    await untilStatus(thing, 'online again', (s) => s.online && s.lastSeenAt?.getTime() === t0 + 3_000);
    await offline(thing, t0 + 4_000, 'taken-over');
    const after = await untilStatus(
      thing,
      'the take-over seen',
      (s) => s.lastSeenAt?.getTime() === t0 + 4_000,
    );
    assert.equal(after.online, true, 'another session of the thing took over: still online');
  });
});

describe('last message', () => {
  test('lastMessageAt is when the bridge received the latest message, never moving back', async () => {
    const thing = v7();
    const js = jetstream(stack.nc);
    const publish = async (received: number) => {
      const h = natsHeaders();
      h.set('Telly-Received', String(received));
      await js.publish(messageSubject({ tenant, channel: v7(), thing }), '[{"n":"t","v":1}]', { headers: h });
    };
    const t0 = Date.now() - 30_000;
    await publish(t0 + 1_000);
    await publish(t0); // a late arrival from before
    await untilStatus(thing, 'last message', (s) => s.lastMessageAt !== null);
    await publish(t0 + 2_000);
    const status = await untilStatus(
      thing,
      'newer message',
      (s) => s.lastMessageAt?.getTime() === t0 + 2_000,
    );
    assert.equal(status.online, false, 'HTTP messages open no session');
    assert.equal(status.lastSeenAt?.getTime(), t0 + 2_000);
  });

  test("a bound model's result about a thing is not the thing speaking", async () => {
    const thing = v7();
    const channel = v7();
    const js = jetstream(stack.nc);
    const t0 = Date.now() - 30_000;
    const device = natsHeaders();
    device.set('Telly-Received', String(t0));
    await js.publish(messageSubject({ tenant, channel, thing }), '[{"n":"t","v":1}]', { headers: device });
    await untilStatus(thing, 'the device message', (s) => s.lastMessageAt?.getTime() === t0);
    // what the inference component writes, received later than the device's message
    const result = natsHeaders();
    result.set('Telly-Received', String(t0 + 5_000));
    result.set('Telly-Protocol', INFERENCE_RESULT_PROTOCOL);
    await js.publish(
      messageSubject({ tenant, channel, thing, subtopic: ['inference', 'digits'] }),
      '[{"n":"digits:label","vs":"7"}]',
      { headers: result },
    );
    // then a device message of another thing: once it shows, the result was projected before it
    const marker = v7();
    const later = natsHeaders();
    later.set('Telly-Received', String(t0 + 6_000));
    await js.publish(messageSubject({ tenant, channel, thing: marker }), '[{"n":"t","v":1}]', {
      headers: later,
    });
    await untilStatus(marker, 'the marker', (s) => s.lastMessageAt !== null);
    const status = await queries.status(tenant, thing);
    assert.equal(status.lastMessageAt?.getTime(), t0, 'the result did not move lastMessageAt');
    assert.equal(status.lastSeenAt?.getTime(), t0);
    assert.equal(status.online, false);
  });
});

describe('rejections', () => {
  test('newest first, the last N per thing kept, filtered by thing and time, bound to the tenant', async () => {
    const thing = v7();
    const other = v7();
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 5; i++) await rejected(t0 + i * 1_000, { thingId: thing, detail: `bad ${i}` });
    await rejected(t0 + 10_000, { thingId: other, reason: 'payload-too-large' });
    await rejected(t0 + 11_000, { reason: 'forbidden', detail: 'no thing' });
    await rejected(t0 + 12_000, { tenantId: otherTenant, thingId: thing, detail: 'of another tenant' });
    const page = await waitFor(
      async () => {
        const p = await queries.rejections(tenant, { thingId: thing });
        // the bound holds after every event: wait for the last one of thing to be in
        return p.totalCount === 3 && p.items.some((r) => r.detail === 'bad 4') && p;
      },
      { what: 'the newest 3 of thing' },
    );
    assert.deepEqual(
      page.items.map((r) => r.detail),
      ['bad 4', 'bad 3', 'bad 2'],
    );
    assert.equal(page.items[0]?.reason, 'invalid-payload');
    assert.equal(page.items[0]?.protocol, 'http');
    assert.equal(page.items[0]?.at.getTime(), t0 + 4_000);
    await waitFor(async () => (await queries.rejections(tenant, {})).totalCount === 5, {
      what: 'every rejection of the tenant',
    });
    const all = await queries.rejections(tenant, { first: 2 });
    assert.deepEqual(
      all.items.map((r) => [r.thing_id, r.reason]),
      [
        [null, 'forbidden'],
        [other, 'payload-too-large'],
      ],
    );
    assert.equal(all.hasNextPage, true);
    const window = await queries.rejections(tenant, {
      from: new Date(t0 + 3_000),
      to: new Date(t0 + 11_000),
    });
    assert.deepEqual(
      window.items.map((r) => r.detail),
      [`refused at ${t0 + 10_000}`, 'bad 4', 'bad 3'],
    );
    assert.deepEqual(
      (await queries.rejections(otherTenant, {})).items.map((r) => r.detail),
      ['of another tenant'],
    );
    assert.equal((await queries.rejections(tenant, { thingId: 'not-an-id' })).totalCount, 0);
    assert.equal(
      (await queries.status(tenant, thing)).lastSeenAt?.getTime(),
      t0 + 4_000,
      'a refusal is a sign of life',
    );
  });

  test('rejections older than the age bound are pruned', async () => {
    const thing = v7();
    const old = Date.now() - 2 * BOUNDS.maxAgeMs;
    await rejected(old, { thingId: thing, detail: 'old' });
    await rejected(Date.now(), { thingId: thing, detail: 'new' });
    await waitFor(async () => (await queries.rejections(tenant, { thingId: thing })).totalCount === 2, {
      what: 'both stored',
    });
    assert.ok((await pruneRejections(stack.pool, BOUNDS)) >= 1);
    assert.deepEqual(
      (await queries.rejections(tenant, { thingId: thing })).items.map((r) => r.detail),
      ['new'],
    );
  });
});
