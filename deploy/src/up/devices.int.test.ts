// The real `telly up`: refusals and device status in GraphQL, and the dead-letter queue as an
// operator sees it — in deadLetters, `telly dlq`, /healthz and /metrics.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { connectNats, DLQ_HEADERS } from '@telly/runtime';
import { dlqSubject, messageSubject } from '@telly/schemas';
import mqtt from 'mqtt';
import { parseConfig } from '../config.ts';
import { type Platform, provisionDevice, runTelly, startPlatform } from '../testing/platform.ts';
import { platformNats } from './dependencies.ts';

let dataDir: string;
let platform: Platform;
let operatorToken: string;
let nc: NatsConnection;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'telly-devices-'));
  // the operator tenant exists only after a signup: sign up, then restart with it configured
  const first = await startPlatform({ TELLY_DATA_DIR: dataDir });
  const { signup } = await first.gql<{ signup: { user: { tenant: { id: string } } } }>(
    'mutation { signup(input: { email: "ops@example.com", password: "correct horse battery staple", tenantName: "operations" }) { user { tenant { id } } } }',
  );
  assert.equal(await first.stop(), 0);
  platform = await startPlatform({ ...first.env, TELLY_OPERATOR_TENANT: signup.user.tenant.id });
  const { login } = await platform.gql<{ login: { accessToken: string } }>(
    'mutation { login(input: { email: "ops@example.com", password: "correct horse battery staple" }) { accessToken } }',
  );
  operatorToken = login.accessToken;
  nc = await connectNats((await platformNats(parseConfig(platform.env))).nats, 'devices-test');
});
after(async () => {
  await nc?.close();
  assert.equal(await platform?.stop(), 0);
  await rm(dataDir, { recursive: true, force: true });
});

const STATUS = `query($t: ID!) {
  thing(id: $t) {
    status { online lastSeenAt lastMessageAt protocol offlineReason }
    rejections(first: 5) { totalCount nodes { time protocol reason detail } }
  }
}`;
interface StatusAnswer {
  thing: {
    status: {
      online: boolean;
      lastSeenAt: string | null;
      lastMessageAt: string | null;
      offlineReason: string | null;
    };
    rejections: {
      totalCount: number;
      nodes: { time: string; protocol: string; reason: string; detail: string }[];
    };
  };
}

test('an HTTP refusal shows in Thing.rejections; an MQTT session makes the thing online until it ends', async () => {
  const device = await provisionDevice(platform, `devices-${Date.now()}@example.com`);
  const status = () => platform.gql<StatusAnswer>(STATUS, { t: device.thingId }, device.token);
  const refused = await fetch(
    `http://127.0.0.1:${platform.ports.http}/channels/${device.channelId}/messages`,
    {
      method: 'POST',
      headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
      body: '[{"n":"temp","v":"not a number"}]',
    },
  );
  assert.equal(refused.status, 400);
  const afterRefusal = await waitFor(
    async () => {
      const s = await status();
      return s.thing.rejections.totalCount === 1 && s;
    },
    { what: 'the refusal in Thing.rejections' },
  );
  const [rejection] = afterRefusal.thing.rejections.nodes;
  assert.equal(rejection?.protocol, 'http');
  assert.equal(rejection?.reason, 'invalid-payload');
  assert.ok(rejection?.detail, 'says what was wrong');
  assert.equal(afterRefusal.thing.status.online, false);

  const stored = await fetch(
    `http://127.0.0.1:${platform.ports.http}/channels/${device.channelId}/messages`,
    {
      method: 'POST',
      headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
      body: '[{"n":"temp","v":21.5}]',
    },
  );
  assert.equal(stored.status, 202);
  await waitFor(async () => (await status()).thing.status.lastMessageAt !== null, { what: 'lastMessageAt' });

  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const connectedAt = Date.now();
  const online = await waitFor(
    async () => {
      const s = await status();
      return s.thing.status.online && s;
    },
    { what: 'online' },
  );
  assert.ok(Date.parse(online.thing.status.lastSeenAt ?? '') >= connectedAt - 1_000);
  await client.endAsync();
  const offline = await waitFor(
    async () => {
      const s = await status();
      return !s.thing.status.online && s;
    },
    { what: 'offline after the disconnect' },
  );
  assert.equal(offline.thing.status.offlineReason, 'disconnected');
  assert.ok(
    Date.parse(offline.thing.status.lastSeenAt ?? '') >= Date.parse(online.thing.status.lastSeenAt ?? ''),
  );
});

test('a dead-lettered message: in deadLetters and telly dlq, /healthz degraded, then redriven and purged', async () => {
  const device = await provisionDevice(platform, `dlq-${Date.now()}@example.com`);
  const tenantId = (await platform.gql<{ tenant: { id: string } }>('{ tenant { id } }', {}, device.token))
    .tenant.id;
  // what telemetry-pg gave up on: a message it never stored, as the runtime dead-letters one
  const craft = async (value: number) => {
    const h = natsHeaders();
    h.set('Content-Type', 'application/senml+json');
    h.set('Telly-Protocol', 'http');
    h.set('Telly-Received', String(Date.now()));
    h.set(DLQ_HEADERS.reason, 'time zone displacement out of range');
    h.set(DLQ_HEADERS.stream, 'MESSAGES');
    h.set(
      DLQ_HEADERS.subject,
      messageSubject({ tenant: tenantId, channel: device.channelId, thing: device.thingId }),
    );
    h.set(DLQ_HEADERS.sequence, '1');
    h.set(DLQ_HEADERS.deliveries, '5');
    const body = JSON.stringify([{ n: 'redriven', v: value, t: Date.now() / 1000 }]);
    return (await jetstream(nc).publish(dlqSubject('telemetry-pg'), body, { headers: h })).seq;
  };
  const seq = await craft(42);

  const health = await waitFor(
    async () => {
      const h = await platform.health();
      return h.body.status === 'degraded' && h;
    },
    { what: '/healthz degraded' },
  );
  assert.equal(health.code, 200, 'degraded still serves');
  const component = health.body.checks['component:telemetry-pg'] as unknown as {
    status: string;
    detail: { checks: Record<string, { status: string; detail: { depth: number } }> };
  };
  assert.equal(component.status, 'degraded');
  assert.equal(component.detail.checks['dlq:telemetry-pg']?.detail.depth, 1);
  await waitFor(
    async () =>
      /telly_processor_dlq_messages\{[^}]*processor="telemetry-pg"[^}]*\} 1/.test(
        await (await fetch(`${platform.apiUrl}/metrics`)).text(),
      ),
    { what: 'the DLQ depth in /metrics' },
  );

  const { deadLetters } = await platform.gql<{
    deadLetters: { seq: number; processor: string; subject: string; reason: string; deliveries: number }[];
  }>(
    '{ deadLetters(processor: "telemetry-pg") { seq processor subject reason deliveries } }',
    {},
    operatorToken,
  );
  assert.deepEqual(
    deadLetters.map((d) => [d.seq, d.processor, d.reason, d.deliveries]),
    [[seq, 'telemetry-pg', 'time zone displacement out of range', 5]],
  );

  const list = await platform.cli(['dlq', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /entries: telemetry-pg 1/);
  assert.match(list.stdout, new RegExp(`^${seq}\\s+telemetry-pg\\s+\\S+\\s+5\\s+msg\\.`, 'm'));
  const show = await platform.cli(['dlq', 'show', String(seq)]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /reason {7}time zone displacement out of range/);
  assert.match(show.stdout, /"n":"redriven","v":42/);

  const redrive = await platform.cli(['dlq', 'redrive', String(seq)]);
  assert.equal(redrive.code, 0, redrive.stderr);
  assert.match(redrive.stdout, /for telemetry-pg alone/);
  const LATEST = 'query($t: ID!) { latest(thingId: $t) { name value } }';
  await waitFor(
    async () => {
      const { latest } = await platform.gql<{ latest: { name: string; value: number }[] }>(
        LATEST,
        { t: device.thingId },
        device.token,
      );
      return latest.some((p) => p.name === 'redriven' && p.value === 42);
    },
    { what: 'telemetry-pg applied the redriven message' },
  );
  const again = await platform.cli(['dlq', 'show', String(seq)]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(again.stderr, /no DLQ entry/);

  await craft(7);
  await craft(8);
  const usage = await platform.cli(['dlq', 'purge']);
  assert.equal(usage.code, 2, 'purging everything takes --all');
  const purge = await platform.cli(['dlq', 'purge', '--processor', 'telemetry-pg']);
  assert.equal(purge.code, 0, purge.stderr);
  assert.match(purge.stdout, /purged 2 entries of telemetry-pg/);
  assert.match((await platform.cli(['dlq', 'list'])).stdout, /the DLQ is empty/);
  await waitFor(async () => (await platform.health()).body.status === 'up', { what: '/healthz up again' });
});

test('telly dlq names what to fix in one line', async () => {
  const unreachable = await runTelly(['dlq', 'list'], { ...platform.env, NATS_URL: 'nats://127.0.0.1:1' });
  assert.equal(unreachable.code, 1);
  assert.equal(unreachable.stderr.trim().split('\n').length, 1, unreachable.stderr);
  assert.match(unreachable.stderr, /cannot reach NATS at nats:\/\/127\.0\.0\.1:1.*NATS_URL/);
  const bad = await platform.cli(['dlq', 'show', 'twelve']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"twelve" is not a DLQ sequence/);
});
