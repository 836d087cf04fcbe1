// A live alert over `Subscription.alerts` in a real `telly up`: the API runs as its own NATS
// user with the permissions of deploy/nats/telly-permissions.conf, so a JetStream call it is
// not granted fails here (the API's own tests run without NATS permissions).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { createClient } from 'graphql-ws';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { type Platform, provisionDevice, startPlatform } from '../testing/platform.ts';

let platform: Platform;
before(async () => {
  platform = await startPlatform();
});
after(async () => {
  assert.equal(await platform?.stop(), 0);
});

test("a rule's alert arrives live over the alerts subscription, one thing's and the tenant's", async () => {
  const device = await provisionDevice(platform, `alerts-${Date.now()}@example.com`);
  await platform.gql(
    `mutation($t: ID!) { createRule(input: { name: "dry soil", thingId: $t, measurement: "moisture",
      condition: { op: LT, value: 30, clearValue: 35 }, severity: MAJOR, message: "{thing}: {value} %" }) { id } }`,
    { t: device.thingId },
    device.token,
  );
  const ws = createClient({
    url: `${platform.apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${device.token}` },
    retryAttempts: 0,
  });
  type Alert = { id: string; status: string; value: number; thingId: string };
  const received: Record<'thing' | 'tenant', Alert[]> = { thing: [], tenant: [] };
  const errors: unknown[] = [];
  const subscribe = (key: 'thing' | 'tenant', query: string) =>
    ws.subscribe<{ alerts: Alert }>(
      { query, variables: { t: device.thingId } },
      {
        next: (r) => {
          if (r.data) received[key].push(r.data.alerts);
          if (r.errors) errors.push(...r.errors);
        },
        error: (e) => errors.push(e),
        complete: () => {},
      },
    );
  const unsubscribe = [
    subscribe('thing', 'subscription($t: ID!) { alerts(thingId: $t) { id status value thingId } }'),
    subscribe('tenant', 'subscription { alerts { id status value thingId } }'),
  ];
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  try {
    // the rules processor takes up the new rule a moment after it is stored, and a subscription
    // sees changes from when its consumer exists: dry and wet readings in turn raise and resolve
    // alerts until both subscriptions have seen one raised
    let reading = 0;
    const alert = await waitFor(
      async () => {
        await client.publishAsync(
          `channels/${device.channelId}/messages`,
          JSON.stringify([{ n: 'moisture', v: reading++ % 2 === 0 ? 22 : 40 }]),
          { qos: 1 },
        );
        const raised = (a: Alert) => a.status === 'OPEN';
        return received.thing.find(
          (a) => raised(a) && received.tenant.some((b) => raised(b) && b.id === a.id),
        );
      },
      {
        timeoutMs: 30_000,
        intervalMs: 300,
        what: 'the alert over both subscriptions',
        giveUp: () =>
          errors.length > 0 ? new Error(`the subscriptions failed: ${JSON.stringify(errors)}`) : undefined,
      },
    );
    assert.deepEqual(errors, []);
    assert.equal(alert.status, 'OPEN');
    assert.equal(alert.value, 22);
    assert.equal(alert.thingId, device.thingId);
  } finally {
    for (const stop of unsubscribe) stop();
    await ws.dispose();
    await client.endAsync();
  }
});
