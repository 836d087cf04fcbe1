// The operator's runbook through the real CLI: the telemetry projection is SIGKILLed mid-load
// and restarted by the supervisor, `telly verify` finds nothing missing or doubled; then the
// tables are dropped, `telly replay` rebuilds them and the API answers exactly as before.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@telly/harness';
import mqtt from 'mqtt';
import pg from 'pg';
import { parseConfig } from '../config.ts';
import { type Platform, provisionDevice, startPlatform } from '../testing/platform.ts';
import { platformUrls } from './dependencies.ts';

let platform: Platform;
before(async () => {
  platform = await startPlatform();
});
after(async () => {
  assert.equal(await platform?.stop(), 0);
});

const T0 = Date.UTC(2026, 9, 30, 12, 0, 0) / 1000; // two days before a month boundary

test('kill the projection mid-load, verify; drop its tables, replay, verify: the same answers', async () => {
  const device = await provisionDevice(platform, `replay-${Date.now()}@example.com`);
  const mqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const pack = (i: number) =>
    JSON.stringify([
      { bn: 'esp:', bt: T0 + i * 600, n: 'temperature', u: 'Cel', v: 18 + (i % 11) },
      { n: 'humidity', u: '%RH', v: 50 + (i % 7) },
    ]);
  const total = 400;
  const pid = async () => (await platform.health()).body.checks['component:telemetry-pg']?.detail?.pid;
  const firstPid = await pid();
  try {
    for (let i = 0; i < total; i++) {
      if (i === total / 2) process.kill(firstPid as number, 'SIGKILL'); // mid-load, mid-batch
      if (i % 2 === 0) {
        await mqttClient.publishAsync(`channels/${device.channelId}/messages`, pack(i), { qos: 1 });
      } else {
        const res = await fetch(
          `http://127.0.0.1:${platform.ports.http}/channels/${device.channelId}/messages`,
          {
            method: 'POST',
            headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
            body: pack(i),
          },
        );
        assert.equal(res.status, 202);
      }
    }
  } finally {
    await mqttClient.endAsync();
  }
  await waitFor(async () => (await pid()) !== firstPid && (await platform.health()).code === 200, {
    timeoutMs: 30_000,
    what: 'telemetry-pg restarted by the supervisor',
  });

  const ANSWERS = `query($t: ID!, $c: ID!) {
    raw: telemetry(thingId: $t, name: "esp:temperature") { time value }
    hourly: telemetry(thingId: $t, name: "esp:humidity", every: "1h", aggregate: AVG) { time value }
    daily: telemetry(channelId: $c, every: "1d", aggregate: LAST) { time name value }
    latest(thingId: $t) { time name value }
  }`;
  const answers = () =>
    platform.gql<{ raw: unknown[] }>(ANSWERS, { t: device.thingId, c: device.channelId }, device.token);
  await waitFor(async () => (await answers()).raw.length === total, {
    timeoutMs: 30_000,
    what: 'every point',
  });
  const csv = async () =>
    (
      await fetch(`${platform.apiUrl}/export/telemetry.csv?thingId=${device.thingId}`, {
        headers: { authorization: `Bearer ${device.token}` },
      })
    ).text();
  const before = { answers: await answers(), csv: await csv() };

  // the projection acks asynchronously after its commit: verify compares up to the ack floor
  await sleep(500);
  const verified = await platform.cli(['verify', 'telemetry-pg']);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, new RegExp(`${total} messages, ${2 * total} points`));
  assert.match(verified.stdout, /no differences/);

  const { databaseUrl } = await platformUrls(parseConfig(platform.env));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      'DROP TABLE telemetry, telemetry_latest, telemetry_rollup_1m, telemetry_rollup_1h CASCADE',
    );
  } finally {
    await client.end();
  }
  const lost = await platform
    .gql<{ raw: unknown[] }>(ANSWERS, { t: device.thingId, c: device.channelId }, device.token)
    .catch((err: Error) => err);
  assert.ok(lost instanceof Error, 'with the tables gone the queries fail');

  const replayed = await platform.cli(['replay', 'telemetry-pg']);
  assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
  assert.match(replayed.stdout, new RegExp(`replayed ${total} messages .* into ${2 * total} points`));
  assert.match(replayed.stderr, /msg\/s/, 'progress with the rate');
  assert.deepEqual(await answers(), before.answers, 'GraphQL answers as before');
  assert.equal(await csv(), before.csv, 'the CSV export as before');

  const again = await platform.cli(['verify', 'telemetry-pg']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /no differences/);

  // ingest and the projection go on on the swapped-in tables
  const res = await fetch(`http://127.0.0.1:${platform.ports.http}/channels/${device.channelId}/messages`, {
    method: 'POST',
    headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
    body: pack(total),
  });
  assert.equal(res.status, 202);
  await waitFor(async () => (await answers()).raw.length === total + 1, {
    timeoutMs: 15_000,
    what: 'a new point',
  });

  const usage = await platform.cli(['replay', 'registry-of-nothing']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /cannot replay registry-of-nothing; projections: telemetry-pg/);
});
