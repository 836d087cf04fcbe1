import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventStreamData, VictoriaMetrics, waitFor } from '@telly/harness';
import { createClient } from 'graphql-ws';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { type Platform, provisionDevice, startPlatform } from '../testing/platform.ts';

let platform: Platform;
let influx: VictoriaMetrics;
before(async () => {
  influx = await VictoriaMetrics.start();
  platform = await startPlatform({ INFLUX_URL: influx.url, INFLUX_ORG: 'farm', INFLUX_BUCKET: 'telemetry' });
});
after(async () => {
  assert.equal(await platform?.stop(), 0);
  await influx?.stop();
});

/** The values VictoriaMetrics holds for one thing's `field` of `name` (the Influx projection's output). */
async function influxValues(thingId: string, field: string, name: string): Promise<number[]> {
  await influx.flush();
  const query = new URLSearchParams({
    'match[]': `{__name__="telemetry_${field}",thing="${thingId}",name="${name}"}`,
  });
  const res = await fetch(`${influx.url}/api/v1/export?${query}`);
  assert.equal(res.status, 200);
  return (await res.text())
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => (JSON.parse(line) as { values: number[] }).values);
}

interface Point {
  time: string;
  name: string;
  value: number | null;
  boolValue: boolean | null;
  thingId: string;
}

test('points published over MQTT and HTTP appear in telemetry, latest, aggregates, the CSV export and InfluxDB', async () => {
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
  const stored = await waitFor(
    async () => {
      const values = await influxValues(device.thingId, 'value', 'esp1:temp');
      return values.length >= 4 && values;
    },
    { timeoutMs: 15_000, what: 'points in the Influx-compatible store' },
  );
  assert.deepEqual(stored, [20, 21, 22, 26]);
  assert.deepEqual(await influxValues(device.thingId, 'bool_value', 'esp1:led'), [1]);

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

test('dashboards subscribed over graphql-ws and SSE on the API port get each point once, in publish order', async () => {
  const device = await provisionDevice(platform, `live-${Date.now()}@example.com`);
  const client = createClient({
    url: `${platform.apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${device.token}` },
    retryAttempts: 0,
  });
  const received: { name: string; value: number }[] = [];
  const errors: unknown[] = [];
  const unsubscribe = client.subscribe<{ telemetry: { name: string; value: number; thingId: string } }>(
    {
      query: `subscription($t: ID!) { telemetry(thingId: $t) { name value thingId } }`,
      variables: { t: device.thingId },
    },
    {
      next: (r) => {
        if (r.data) received.push(r.data.telemetry);
        if (r.errors) errors.push(...r.errors);
      },
      error: (e) => errors.push(e),
      complete: () => {},
    },
  );
  // the same subscription over SSE, through the same public port (and its proxy)
  const sse = new AbortController();
  const sseReceived: { name: string; value: number }[] = [];
  const sseDone = (async () => {
    const res = await fetch(`${platform.apiUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${device.token}`,
      },
      body: JSON.stringify({
        query: 'subscription($t: ID!) { telemetry(thingId: $t) { name value } }',
        variables: { t: device.thingId },
      }),
      signal: sse.signal,
    });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    for await (const data of eventStreamData(res.body!)) {
      const point = JSON.parse(data) as { data?: { telemetry: { name: string; value: number } } };
      if (point.data) sseReceived.push(point.data.telemetry);
    }
  })().catch((err: unknown) => {
    if (!sse.signal.aborted) throw err;
  });
  const post = (records: unknown[]) =>
    fetch(`http://127.0.0.1:${platform.ports.http}/channels/${device.channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
      body: JSON.stringify(records),
    });
  const mqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  try {
    // the subscription's consumer starts asynchronously: probe until it delivers
    await waitFor(
      async () => {
        assert.equal((await post([{ n: 'probe', v: 0 }])).status, 202);
        return received.length > 0 && sseReceived.length > 0;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'subscription live' },
    );
    // each publish is acked (PUBACK, 202) before the next: the log order is the publish order
    for (let i = 0; i < 25; i++) {
      await mqttClient.publishAsync(
        `channels/${device.channelId}/messages`,
        JSON.stringify([{ n: 'soil', v: 2 * i }]),
        {
          qos: 1,
        },
      );
      assert.equal((await post([{ n: 'soil', v: 2 * i + 1 }])).status, 202);
    }
    const soil = (points: { name: string; value: number }[]) => points.filter((p) => p.name === 'soil');
    await waitFor(() => soil(received).length >= 50 && soil(sseReceived).length >= 50, {
      timeoutMs: 15_000,
      what: '50 live points on each transport',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [transport, points] of [
      ['graphql-ws', received],
      ['SSE', sseReceived],
    ] as const) {
      assert.deepEqual(
        soil(points).map((p) => p.value),
        Array.from({ length: 50 }, (_, i) => i),
        `${transport}: each point once, in the order the thing published them`,
      );
    }
    assert.deepEqual(errors, []);
  } finally {
    sse.abort();
    await sseDone;
    unsubscribe();
    await client.dispose();
    await mqttClient.endAsync();
  }
});
