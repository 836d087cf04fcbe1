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

interface Point {
  time: string;
  name: string;
  value: number | null;
  boolValue: boolean | null;
  thingId: string;
}

test('points published over MQTT and HTTP appear in telemetry, latest, aggregates and the CSV export', async () => {
  const device = await provisionDevice(platform, `telemetry-${Date.now()}@example.com`);
  const t0 = Date.UTC(2026, 10, 20, 10, 0, 0) / 1000;
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  for (let i = 0; i < 3; i++) {
    await client.publishAsync(
      `channels/${device.channelId}/messages`,
      JSON.stringify([{ bn: 'esp1:', bt: t0 + i * 60, n: 'temp', u: 'Cel', v: 20 + i }]),
      { qos: 1 },
    );
  }
  await client.endAsync();
  const http = await fetch(`http://127.0.0.1:${platform.ports.http}/channels/${device.channelId}/messages`, {
    method: 'POST',
    headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
    body: JSON.stringify([
      { bn: 'esp1:', bt: t0 + 3 * 60, n: 'temp', u: 'Cel', v: 26 },
      { n: 'led', vb: true },
    ]),
  });
  assert.equal(http.status, 202);

  const TELEMETRY = `query($t: ID!, $from: DateTime, $to: DateTime, $last: Int, $every: String, $agg: Aggregate) {
    telemetry(thingId: $t, name: "esp1:temp", from: $from, to: $to, last: $last, every: $every, aggregate: $agg) {
      time name value thingId
    }
  }`;
  const query = (vars: Record<string, unknown>) =>
    platform.gql<{ telemetry: Point[] }>(TELEMETRY, { t: device.thingId, ...vars }, device.token);
  await waitFor(async () => (await query({})).telemetry.length === 4, {
    timeoutMs: 15_000,
    what: '4 points projected',
  });
  assert.deepEqual(
    (await query({})).telemetry.map((p) => p.value),
    [20, 21, 22, 26],
  );
  assert.deepEqual(
    (await query({ last: 2 })).telemetry.map((p) => p.value),
    [22, 26],
  );
  const from = new Date((t0 + 60) * 1000).toISOString();
  const to = new Date((t0 + 180) * 1000).toISOString();
  assert.deepEqual(
    (await query({ from, to })).telemetry.map((p) => p.value),
    [21, 22],
    'by date: [from, to)',
  );
  const hourly = await query({ every: '1h', agg: 'AVG' });
  assert.deepEqual(
    hourly.telemetry.map((p) => [p.time, p.value]),
    [['2026-11-20T10:00:00.000Z', (20 + 21 + 22 + 26) / 4]],
  );
  const maxPerMinute = await query({ every: '2m', agg: 'MAX' });
  assert.deepEqual(
    maxPerMinute.telemetry.map((p) => p.value),
    [21, 26],
  );

  const { latest } = await platform.gql<{ latest: Point[] }>(
    'query($t: ID!) { latest(thingId: $t) { name value boolValue } }',
    { t: device.thingId },
    device.token,
  );
  assert.deepEqual(
    latest.map((p) => [p.name, p.value, p.boolValue]),
    [
      ['esp1:led', null, true],
      ['esp1:temp', 26, null],
    ],
  );

  const csv = await fetch(
    `${platform.apiUrl}/export/telemetry.csv?thingId=${device.thingId}&name=esp1:temp`,
    {
      headers: { authorization: `Bearer ${device.token}` },
    },
  );
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  const lines = (await csv.text()).trim().split('\r\n');
  assert.equal(
    lines[0],
    'time,thing_id,channel_id,subtopic,name,unit,value,string_value,bool_value,data_value,sum',
  );
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(',')[6]),
    ['20', '21', '22', '26'],
  );
  const anonymous = await fetch(`${platform.apiUrl}/export/telemetry.csv?thingId=${device.thingId}`);
  assert.equal(anonymous.status, 401);

  // another tenant sees none of it
  const other = await provisionDevice(platform, `other-${Date.now()}@example.com`);
  const foreign = await platform.gql<{ telemetry: Point[] }>(TELEMETRY, { t: device.thingId }, other.token);
  assert.deepEqual(foreign.telemetry, []);
  const foreignCsv = await fetch(`${platform.apiUrl}/export/telemetry.csv?thingId=${device.thingId}`, {
    headers: { authorization: `Bearer ${other.token}` },
  });
  assert.equal((await foreignCsv.text()).trim().split('\r\n').length, 1, 'header only');
});
