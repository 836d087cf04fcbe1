// Live telemetry: Subscription.telemetry over graphql-ws and SSE, fed from JetStream. Real NATS,
// Postgres and the API over real HTTP / WebSocket; messages are stored as a bridge stores them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { createLogger, REDRIVE_HEADERS } from '@telly/runtime';
import { messageSubject } from '@telly/schemas';
import { FeedEnd, TelemetryFeed } from './services/telemetry-feed.ts';
import {
  ok,
  publishReading,
  type Signed,
  type Stack,
  signup,
  startStack,
  subscribeSse,
  wsClient,
} from './testing/stack.ts';

const SUBSCRIPTION = `subscription($thingId: ID, $channelId: ID, $name: String) {
  telemetry(thingId: $thingId, channelId: $channelId, name: $name) { time thingId channelId name unit value stringValue }
}`;

interface LivePoint {
  time: string;
  thingId: string;
  channelId: string;
  name: string;
  unit: string | null;
  value: number | null;
  stringValue: string | null;
}

interface Device {
  tenantId: string;
  channelId: string;
  thingId: string;
}

async function provision(url: string, owner: Signed, things: number): Promise<Device[]> {
  const token = owner.accessToken;
  const { createChannel } = await ok<{ createChannel: { id: string } }>(
    url,
    'mutation { createChannel(input: { name: "greenhouse" }) { id } }',
    {},
    token,
  );
  const devices: Device[] = [];
  for (let i = 0; i < things; i++) {
    const { createThing } = await ok<{ createThing: { thing: { id: string } } }>(
      url,
      `mutation { createThing(input: { name: "board-${i}" }) { thing { id } } }`,
      {},
      token,
    );
    devices.push({
      tenantId: owner.user.tenant.id,
      channelId: createChannel.id,
      thingId: createThing.thing.id,
    });
  }
  return devices;
}

/** A graphql-ws subscription collecting its points (and its errors) until disposed. */
function subscribeWs(url: string, token: string, variables: Record<string, unknown>) {
  const client = wsClient(url, token);
  const points: LivePoint[] = [];
  const errors: { message: string; extensions?: { code?: string } }[] = [];
  let completed = false;
  const dispose = client.subscribe<{ telemetry: LivePoint }>(
    { query: SUBSCRIPTION, variables },
    {
      next: (result) => {
        if (result.data?.telemetry) points.push(result.data.telemetry);
        if (result.errors) errors.push(...(result.errors as typeof errors));
      },
      error: (err) => errors.push({ message: String((err as Error)?.message ?? JSON.stringify(err)) }),
      complete: () => {
        completed = true;
      },
    },
  );
  return {
    points,
    errors,
    completed: () => completed,
    async close() {
      dispose();
      await client.dispose();
    },
  };
}

/** Subscriptions start their consumer asynchronously: a probe message shows this one is live. */
async function untilLive(
  stack: Stack,
  device: Device,
  seen: () => readonly LivePoint[],
  name = 'probe',
): Promise<void> {
  await waitFor(
    async () => {
      await publishReading(stack.nc, device, [{ n: name, v: -1 }]);
      await sleep(50);
      return seen().some((p) => p.name === name && p.value === -1);
    },
    { timeoutMs: 10_000, what: 'subscription live' },
  );
}

describe('live telemetry subscriptions', () => {
  let stack: Stack;
  let owner: Signed;
  let other: Signed;
  let devices: Device[];
  let strangers: Device[];

  before(async () => {
    stack = await startStack({ feed: { recheckMs: 300 } });
    owner = await signup(stack.url, `live-${Date.now()}@example.com`, 'farm');
    other = await signup(stack.url, `other-${Date.now()}@example.com`, 'rival');
    devices = await provision(stack.url, owner, 3);
    strangers = await provision(stack.url, other, 1);
  });
  after(async () => {
    await stack?.stop();
  });

  test('graphql-ws and SSE subscribers get each point once, in order per thing; filters hold', async () => {
    const [d0, d1, d2] = devices as [Device, Device, Device];
    const byChannelWs = subscribeWs(stack.url, owner.accessToken, { channelId: d0.channelId });
    const byThingWs = subscribeWs(stack.url, owner.accessToken, { thingId: d1.thingId, name: 'temperature' });
    const sse = new AbortController();
    const ssePoints: LivePoint[] = [];
    const sseDone = subscribeSse(
      stack.url,
      SUBSCRIPTION,
      { channelId: d0.channelId },
      owner.accessToken,
      sse.signal,
      (payload) => {
        const point = (payload.data as { telemetry?: LivePoint } | undefined)?.telemetry;
        if (point) ssePoints.push(point);
      },
    );
    try {
      await untilLive(stack, d0, () => byChannelWs.points);
      await untilLive(stack, d0, () => ssePoints);
      await untilLive(stack, d1, () => byThingWs.points, 'temperature');
      const before = { ws: byChannelWs.points.length, sse: ssePoints.length, thing: byThingWs.points.length };

      // 3 things × 40 packs of two records, interleaved; every 10th pack is sent twice with the same
      // message id, as a bridge retries, and JetStream stores it once
      const sent = new Map<string, number[]>();
      for (let i = 0; i < 40; i++) {
        for (const d of [d0, d1, d2]) {
          const msgId = `${d.thingId}:${i}`;
          await publishReading(
            stack.nc,
            d,
            [
              { n: 'temperature', u: 'Cel', v: i },
              { n: 'status', vs: `ok-${i}` },
            ],
            msgId,
          );
          if (i % 10 === 0) await publishReading(stack.nc, d, [{ n: 'temperature', u: 'Cel', v: i }], msgId);
          sent.set(d.thingId, [...(sent.get(d.thingId) ?? []), i]);
        }
      }
      // the other tenant's traffic on the same log never reaches these subscribers
      await publishReading(stack.nc, strangers[0] as Device, [{ n: 'temperature', v: 999 }]);

      const expected = 3 * 40 * 2;
      await waitFor(
        () =>
          byChannelWs.points.length - before.ws >= expected &&
          ssePoints.length - before.sse >= expected &&
          byThingWs.points.length - before.thing >= 40,
        { timeoutMs: 15_000, what: 'every point delivered' },
      );
      await sleep(300); // nothing more may arrive: no duplicates, no strangers
      for (const [label, points] of [
        ['graphql-ws by channel', byChannelWs.points.slice(before.ws)],
        ['SSE by channel', ssePoints.slice(before.sse)],
      ] as const) {
        assert.equal(points.length, expected, `${label}: each point exactly once`);
        assert.ok(
          points.every((p) => p.channelId === d0.channelId),
          `${label}: only the channel's points`,
        );
        for (const d of [d0, d1, d2]) {
          const temps = points
            .filter((p) => p.thingId === d.thingId && p.name === 'temperature')
            .map((p) => p.value);
          assert.deepEqual(temps, sent.get(d.thingId), `${label}: ${d.thingId} in order`);
          const statuses = points.filter((p) => p.thingId === d.thingId && p.name === 'status');
          assert.deepEqual(
            statuses.map((p) => p.stringValue),
            sent.get(d.thingId)?.map((i) => `ok-${i}`),
          );
        }
      }
      const thingPoints = byThingWs.points.slice(before.thing);
      assert.deepEqual(
        thingPoints.map((p) => [p.thingId, p.name, p.unit, p.value]),
        sent.get(d1.thingId)?.map((i) => [d1.thingId, 'temperature', 'Cel', i]),
        'thing + name filter: only that thing’s temperature, in order',
      );
      assert.deepEqual(byChannelWs.errors, []);
    } finally {
      sse.abort();
      await sseDone;
      await byChannelWs.close();
      await byThingWs.close();
    }
  });

  test('a message redriven from the DLQ for a projection is not sent to subscribers again', async () => {
    const d0 = devices[0] as Device;
    const sse = new AbortController();
    const points: LivePoint[] = [];
    const done = subscribeSse(
      stack.url,
      SUBSCRIPTION,
      { thingId: d0.thingId },
      owner.accessToken,
      sse.signal,
      (payload) => {
        const point = (payload.data as { telemetry?: LivePoint } | undefined)?.telemetry;
        if (point) points.push(point);
      },
    );
    try {
      await untilLive(stack, d0, () => points, 'redrive-probe');
      // a copy `telly dlq redrive` republished for telemetry-pg: the original went by already
      const h = natsHeaders();
      h.set('Content-Type', 'application/senml+json');
      h.set('Telly-Received', String(Date.now()));
      h.set(REDRIVE_HEADERS.for, 'telemetry-pg');
      const subject = messageSubject({ tenant: d0.tenantId, channel: d0.channelId, thing: d0.thingId });
      const copy = JSON.stringify([{ n: 'redriven', v: 1, t: Date.now() / 1000 }]);
      await jetstream(stack.nc).publish(subject, copy, { headers: h });
      await publishReading(stack.nc, d0, [{ n: 'after-redrive', v: 2 }]);
      await waitFor(() => points.some((p) => p.name === 'after-redrive'), {
        what: 'the point after the copy',
      });
      assert.deepEqual(
        points.filter((p) => p.name === 'redriven'),
        [],
      );
    } finally {
      sse.abort();
      await done;
    }
  });

  test('another tenant’s ids, malformed ids and missing tokens get nothing', async () => {
    const [d0] = devices as [Device];
    const stranger = subscribeWs(stack.url, other.accessToken, { thingId: d0.thingId });
    const wholeTenant = subscribeWs(stack.url, other.accessToken, {});
    const malformed = subscribeWs(stack.url, owner.accessToken, { thingId: 'not-an-id' });
    const anonymous = wsClient(stack.url, '');
    const anonymousErrors: unknown[] = [];
    anonymous.subscribe(
      { query: SUBSCRIPTION, variables: { thingId: d0.thingId } },
      {
        next: (r) => anonymousErrors.push(...(r.errors ?? [])),
        error: (e) => anonymousErrors.push(e),
        complete: () => {},
      },
    );
    try {
      await untilLive(stack, strangers[0] as Device, () => wholeTenant.points);
      for (let i = 0; i < 5; i++) await publishReading(stack.nc, d0, [{ n: 'temperature', v: i }]);
      await sleep(500);
      assert.deepEqual(stranger.points, [], 'nothing of another tenant’s thing');
      assert.ok(
        wholeTenant.points.every((p) => p.thingId === (strangers[0] as Device).thingId),
        'a whole-tenant subscription sees its own tenant only',
      );
      assert.deepEqual(malformed.points, []);
      assert.deepEqual(malformed.errors, []);
      await waitFor(() => anonymousErrors.length > 0, { what: 'anonymous refused' });
      assert.match(JSON.stringify(anonymousErrors), /UNAUTHENTICATED|Authorization/);
    } finally {
      await Promise.all([stranger.close(), wholeTenant.close(), malformed.close(), anonymous.dispose()]);
    }
  });

  test('logging out ends the subscription with UNAUTHENTICATED', async () => {
    const [d0] = devices as [Device];
    const session = await ok<{ login: { accessToken: string; refreshToken: string } }>(
      stack.url,
      'mutation($e: String!) { login(input: { email: $e, password: "correct horse battery staple" }) { accessToken refreshToken } }',
      { e: owner.user.email },
    );
    const live = subscribeWs(stack.url, session.login.accessToken, { thingId: d0.thingId });
    try {
      await untilLive(stack, d0, () => live.points);
      await ok(stack.url, 'mutation($r: String!) { logout(refreshToken: $r) }', {
        r: session.login.refreshToken,
      });
      await waitFor(() => live.completed(), { timeoutMs: 10_000, what: 'subscription ended' });
      assert.equal(live.errors[0]?.extensions?.code, 'UNAUTHENTICATED');
    } finally {
      await live.close();
    }
  });

  test('a subscriber that stops reading is ended with SLOW_CONSUMER and never slows publishing', async () => {
    const [d0] = devices as [Device];
    const feed = new TelemetryFeed(jetstream(stack.nc), createLogger('feed-test', { LOG_LEVEL: 'error' }), {
      maxLagMs: 500,
    });
    const iterator = feed
      .subscribe({ tenantId: d0.tenantId, thingId: d0.thingId }, async () => {})
      [Symbol.asyncIterator]();
    const first = iterator.next();
    await waitFor(
      async () => {
        await publishReading(stack.nc, d0, [{ n: 'probe', v: 0 }]);
        return Promise.race([first.then(() => true), sleep(50).then(() => false)]);
      },
      { what: 'feed live' },
    );
    assert.equal(feed.active(d0.tenantId), 1);
    // the subscriber reads nothing while 300 messages are stored: every publish is acked
    const seqs: number[] = [];
    for (let i = 0; i < 300; i++) seqs.push(await publishReading(stack.nc, d0, [{ n: 'temperature', v: i }]));
    assert.equal(new Set(seqs).size, 300);
    // ended while it still reads nothing: its consumer and timers are released at once
    await waitFor(() => feed.active(d0.tenantId) === 0, {
      timeoutMs: 5_000,
      what: 'stalled subscriber ended',
    });
    let end: FeedEnd | undefined;
    for (let read = 0; read < 1000 && !end; read++) {
      const next = await iterator.next();
      if (next.done) break;
      if (next.value instanceof FeedEnd) end = next.value;
    }
    assert.equal(end?.error.extensions.code, 'SLOW_CONSUMER');
    assert.equal((await iterator.next()).done, true);

    // a subscription the client leaves before reading anything never counts against the tenant
    for (let i = 0; i < 3; i++)
      await feed
        .subscribe({ tenantId: d0.tenantId }, async () => {})
        [Symbol.asyncIterator]()
        .return?.();
    assert.equal(feed.active(d0.tenantId), 0);
  });
});
