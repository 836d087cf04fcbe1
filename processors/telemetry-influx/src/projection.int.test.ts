import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InfluxDB } from '@influxdata/influxdb-client';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { freePort, httpOk, ManagedProcess, NatsServer, VictoriaMetrics, waitFor } from '@telly/harness';
import {
  createLogger,
  createMetricsRegistry,
  DLQ_HEADERS,
  ensureTopology,
  HealthChecks,
  type RunningProcessor,
  runProcessor,
} from '@telly/runtime';
import { dlqSubject, STREAMS } from '@telly/schemas';
import { component } from './component.ts';
import { type InfluxProjection, influxProjection, TELEMETRY_INFLUX } from './projection.ts';

const logger = createLogger('telemetry-influx-test', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' });
let nats: NatsServer;
let vm: VictoriaMetrics;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;

before(async () => {
  [nats, vm] = await Promise.all([NatsServer.start(), VictoriaMetrics.start()]);
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
  await ensureTopology(nc, jsm);
});
after(async () => {
  for (const { projection, running } of live) {
    projection.abort();
    await running.stop();
  }
  await nc?.close();
  await Promise.all([nats?.stop(), vm?.stop()]);
});

// ---------------------------------------------------------------------------------------------
// publishing and expectations

interface Device {
  tenant: string;
  channel: string;
  thing: string;
  /** Subject levels after the thing. */
  subtopic: string[];
}

function device(subtopic: string[] = []): Device {
  return { tenant: randomUUID(), channel: randomUUID(), thing: randomUUID(), subtopic };
}

/** One expected VictoriaMetrics sample: `telemetry_<field>{labels}` at `t`. */
interface Sample {
  metric: string;
  labels: Record<string, string>;
  t: number;
  v: number;
}

const seriesKey = (metric: string, labels: Record<string, string>) =>
  `${metric}{${Object.entries(labels)
    .filter(([k]) => k !== '__name__')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

async function publish(
  d: Device,
  body: string,
  contentType = 'application/senml+json',
  receivedMs = Date.now(),
): Promise<number> {
  const h = natsHeaders();
  h.set('Content-Type', contentType);
  h.set('Telly-Received', String(receivedMs));
  const subject = ['msg', d.tenant, d.channel, d.thing, ...d.subtopic].join('.');
  const ack = await js.publish(subject, new TextEncoder().encode(body), { headers: h });
  return ack.seq;
}

/**
 * Publishes one resolved SenML message with every kind of value at `timeMs` and returns the
 * samples VictoriaMetrics must then hold (it keeps numbers; a string field is stored as 0, a
 * boolean as 0/1).
 */
async function publishReading(
  d: Device,
  i: number,
  timeMs: number,
): Promise<{ seq: number; samples: Sample[] }> {
  const t = timeMs / 1000;
  const records = [
    { n: 'temp', u: 'Cel', v: i + 0.5, t },
    { n: 'door', vb: i % 2 === 0, t },
    { n: 'label', vs: `reading ${i}, "quoted"`, t },
    { n: 'blob', vd: 'AQID', t },
    { n: 'energy', u: 'kWh', s: i * 2, t },
    { n: 'meter', v: i, s: i * 10, t },
    { n: 'speed', u: 'kg m/s,x=1', v: 0 - i, t },
  ];
  const seq = await publish(d, JSON.stringify(records));
  const base: Record<string, string> = { tenant: d.tenant, channel: d.channel, thing: d.thing };
  if (d.subtopic.length > 0) base.subtopic = d.subtopic.join('/');
  const s = (field: string, name: string, v: number, unit?: string): Sample => ({
    metric: `telemetry_${field}`,
    labels: { ...base, name, ...(unit ? { unit } : {}) },
    t: timeMs,
    v,
  });
  return {
    seq,
    samples: [
      s('value', 'temp', i + 0.5, 'Cel'),
      s('bool_value', 'door', i % 2 === 0 ? 1 : 0),
      s('string_value', 'label', 0),
      s('data_value', 'blob', 0),
      s('sum', 'energy', i * 2, 'kWh'),
      s('value', 'meter', i),
      s('sum', 'meter', i * 10),
      s('value', 'speed', 0 - i, 'kg m/s,x=1'),
    ],
  };
}

/** Every `telemetry_*` sample VictoriaMetrics holds for `tenants`, by series, as [time, value]. */
async function exported(tenants: string[]): Promise<Map<string, [number, number][]>> {
  await vm.flush();
  const query = new URLSearchParams({
    'match[]': `{__name__=~"telemetry_.*",tenant=~"${tenants.join('|')}"}`,
  });
  const res = await fetch(`${vm.url}/api/v1/export?${query}`);
  assert.equal(res.status, 200);
  const out = new Map<string, [number, number][]>();
  for (const line of (await res.text()).split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as {
      metric: Record<string, string>;
      values: number[];
      timestamps: number[];
    };
    const key = seriesKey(row.metric.__name__ ?? '', row.metric);
    const samples = out.get(key) ?? [];
    row.timestamps.forEach((t, i) => {
      samples.push([t, row.values[i]!]);
    });
    out.set(key, samples);
  }
  return out;
}

const countOf = (m: Map<string, [number, number][]>) => [...m.values()].reduce((n, s) => n + s.length, 0);

/** Waits until VictoriaMetrics holds as many samples as expected, then checks each is there exactly once. */
async function assertExactlyOnce(expected: Sample[]): Promise<void> {
  const tenants = [...new Set(expected.map((s) => s.labels.tenant!))];
  const got = await waitFor(
    async () => {
      const m = await exported(tenants);
      return countOf(m) >= expected.length && m;
    },
    { what: `${expected.length} samples in VictoriaMetrics`, intervalMs: 200 },
  );
  const want = new Map<string, [number, number][]>();
  for (const s of expected) {
    const key = seriesKey(s.metric, s.labels);
    want.set(key, [...(want.get(key) ?? []), [s.t, s.v]]);
  }
  const sort = (samples: [number, number][]) => [...samples].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), 'the same series');
  for (const [key, samples] of want) assert.deepEqual(sort(got.get(key) ?? []), sort(samples), key);
}

// ---------------------------------------------------------------------------------------------
// consumer and DLQ

async function consumerInfo(name = TELEMETRY_INFLUX) {
  return jsm.consumers.info(STREAMS.MESSAGES.name, name);
}

async function waitAcked(lastSeq: number, name = TELEMETRY_INFLUX): Promise<void> {
  await waitFor(
    async () => {
      const info = await consumerInfo(name);
      return info.ack_floor.stream_seq >= lastSeq && info.num_ack_pending === 0 && info.num_pending === 0;
    },
    { what: `${name} acked up to ${lastSeq}`, intervalMs: 100 },
  );
}

/** Stream sequences of the MESSAGES entries in `dlq.<name>`. */
async function deadLettered(name = TELEMETRY_INFLUX): Promise<number[]> {
  const { state } = await jsm.streams.info(STREAMS.DLQ.name);
  const seqs: number[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.DLQ.name, { seq }).catch(() => null);
    if (m?.subject === dlqSubject(name)) seqs.push(Number(m.header.get(DLQ_HEADERS.sequence)));
  }
  return seqs;
}

/** Processors still running when a test fails, stopped in `after` so the process can exit. */
const live = new Set<{ projection: InfluxProjection; running: RunningProcessor }>();

async function start(projection: InfluxProjection): Promise<{ stop(): Promise<void> }> {
  const running = await runProcessor(projection, { nc, logger });
  const entry = { projection, running };
  live.add(entry);
  return {
    async stop() {
      live.delete(entry);
      projection.abort();
      await running.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------

test('projects MESSAGES into VictoriaMetrics; survives the sink being down without acking, dropping or duplicating', async () => {
  const devices = [device(), device(['floor-1', 'room=2'])];
  const baseMs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  let n = 0;
  const expected: Sample[] = [];
  const publishReadings = async (count: number) => {
    let seq = 0;
    for (let k = 0; k < count; k++, n++) {
      const r = await publishReading(devices[n % 2]!, n, baseMs + n * 10);
      expected.push(...r.samples);
      seq = r.seq;
    }
    return seq;
  };

  // ---- phase 1: the sink is up; two messages that are not telemetry go to the DLQ
  const poison: number[] = [];
  await publishReadings(120);
  poison.push(await publish(devices[0]!, 'not json'));
  await publishReadings(30);
  poison.push(await publish(devices[1]!, '\u0001\u0002', 'application/octet-stream'));
  // plain JSON: one record per key, timed by Telly-Received
  const receivedMs = baseMs + 999_000;
  await publish(devices[0]!, JSON.stringify({ humidity: 40.5, ok: true }), 'application/json', receivedMs);
  const base0 = { tenant: devices[0]!.tenant, channel: devices[0]!.channel, thing: devices[0]!.thing };
  expected.push(
    { metric: 'telemetry_value', labels: { ...base0, name: 'humidity' }, t: receivedMs, v: 40.5 },
    { metric: 'telemetry_bool_value', labels: { ...base0, name: 'ok' }, t: receivedMs, v: 1 },
  );
  const phase1Last = await publishReadings(100);

  const options = {
    url: vm.url,
    org: 'telly',
    bucket: 'telly',
    batchSize: 100,
    minRetryDelayMs: 100,
    maxRetryDelayMs: 400,
  };
  let projection = influxProjection(options);
  let running = await start(projection);
  await waitAcked(phase1Last);
  // the batch holding a poison message was written once, then only the poison went to the DLQ
  await assertExactlyOnce(expected);
  assert.deepEqual(await deadLettered(), poison);
  assert.equal(projection.writer.health().status, 'up');

  // ---- phase 2: the sink goes down while messages keep coming
  await vm.process.stop();
  const phase2Last = await publishReadings(250);
  const heldSince = Date.now();
  while (Date.now() - heldSince < 3_000) {
    const info = await consumerInfo();
    assert.equal(info.ack_floor.stream_seq, phase1Last, 'nothing acked while the sink is down');
    assert.equal(info.num_redelivered, 0, 'the batch is held in place, not nak’d and redelivered');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const held = await consumerInfo();
  assert.ok(
    held.num_ack_pending > 0 && held.num_ack_pending <= 100,
    `one batch in hand (${held.num_ack_pending})`,
  );
  assert.ok(held.num_pending > 0, 'the rest waits in the stream');
  assert.equal(projection.writer.health().status, 'down');
  assert.deepEqual(await deadLettered(), poison, 'an outage sends nothing to the DLQ');

  // stopping while the sink is down hands the batch back instead of waiting for the sink
  const stopAt = Date.now();
  await running.stop(); // aborts the projection first, as the component does
  assert.ok(Date.now() - stopAt < 5_000, `stopped in ${Date.now() - stopAt} ms`);
  assert.equal((await consumerInfo()).ack_floor.stream_seq, phase1Last);
  assert.deepEqual(await deadLettered(), poison);

  // ---- phase 3: more while nothing runs; then the sink and the projection come back
  const lastSeq = (await publishReadings(30)) || phase2Last;
  vm.process.start();
  await waitFor(() => httpOk(`${vm.url}/health`), { what: 'victoria-metrics back' });
  projection = influxProjection(options);
  running = await start(projection);
  await waitAcked(lastSeq);
  await assertExactlyOnce(expected);
  assert.deepEqual(await deadLettered(), poison);
  assert.equal(projection.writer.health().status, 'up');
  await running.stop();
});

/** How long the sink stays down under load. */
const OUTAGE_MS = Number(process.env.TELLY_OUTAGE_MS ?? 30_000);

test(`the sink down for ${OUTAGE_MS / 1000} s under load: afterwards every point exactly once, nothing dead-lettered`, async () => {
  const devices = [device(), device(['greenhouse'])];
  const baseMs = Math.floor(Date.now() / 1000) * 1000 - 7_200_000;
  const expected: Sample[] = [];
  const dlqBefore = await deadLettered();
  const running = await start(
    influxProjection({ url: vm.url, org: 'telly', bucket: 'telly', batchSize: 200, maxRetryDelayMs: 2_000 }),
  );
  let stop = false;
  let lastSeq = 0;
  const load = (async () => {
    for (let n = 0; !stop; n++) {
      const r = await publishReading(devices[n % 2]!, n, baseMs + n * 10);
      expected.push(...r.samples);
      lastSeq = r.seq;
      if (n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await vm.process.stop();
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  vm.process.start();
  await waitFor(() => httpOk(`${vm.url}/health`), { what: 'victoria-metrics back' });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  stop = true;
  await load;
  assert.ok(expected.length > 2_000, `load during the outage (${expected.length} samples)`);
  await waitAcked(lastSeq);
  await assertExactlyOnce(expected);
  assert.deepEqual(await deadLettered(), dlqBefore, 'an outage sends nothing to the DLQ');
  await running.stop();
});

test('the telly up component: NATS only (no DATABASE_URL), an influx health check, stops while the sink is down', async () => {
  const name = TELEMETRY_INFLUX;
  const d = device();
  const timeMs = Math.floor(Date.now() / 1000) * 1000 - 1_800_000;
  const startComponent = async () => {
    const health = new HealthChecks();
    const env = { INFLUX_URL: vm.url, NATS_URL: nats.url };
    const metrics = createMetricsRegistry(name);
    return { health, running: await component.start({ name, env, logger, metrics, health }) };
  };
  const first = await publishReading(d, 7, timeMs);
  let { health, running } = await startComponent();
  let second: Awaited<ReturnType<typeof publishReading>> | undefined;
  try {
    // the consumer is the one of the test above: it catches up with the whole stream
    await waitAcked(first.seq);
    await assertExactlyOnce(first.samples);
    const report = await health.report();
    assert.equal(report.checks.influx?.status, 'up', JSON.stringify(report));
    assert.equal(report.checks[`processor:${name}`]?.status, 'up');

    await vm.process.stop();
    second = await publishReading(d, 8, timeMs + 10);
    await waitFor(async () => (await health.report()).checks.influx?.status === 'down', {
      what: 'influx down',
    });
  } finally {
    const stopAt = Date.now();
    await running.stop();
    assert.ok(Date.now() - stopAt < 5_000, `stopped in ${Date.now() - stopAt} ms`);
    if (!vm.process.running) {
      vm.process.start();
      await waitFor(() => httpOk(`${vm.url}/health`), { what: 'victoria-metrics back' });
    }
  }
  // what was published while the sink was down is written by the next run
  ({ health, running } = await startComponent());
  try {
    await waitAcked(second.seq);
    await assertExactlyOnce([...first.samples, ...second.samples]);
  } finally {
    await running.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// influxd

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  return undefined;
}

test('against influxd (InfluxDB 2.x): tags, every field type, last write wins per series and ms', async (t) => {
  const bin = onPath('influxd');
  if (!bin) {
    t.skip('influxd not installed');
    return;
  }
  const version = execFileSync(bin, ['version'], { encoding: 'utf8' });
  if (!/InfluxDB v?2\./.test(version)) {
    t.skip(`influxd is not InfluxDB 2.x (${version.trim()})`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'telly-influxd-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const influxd = new ManagedProcess({
    name: 'influxd',
    command: bin,
    args: [
      `--bolt-path=${join(dir, 'influxd.bolt')}`,
      `--engine-path=${join(dir, 'engine')}`,
      `--http-bind-address=127.0.0.1:${port}`,
      '--reporting-disabled',
      '--log-level=error',
    ],
    spawn: { cwd: dir, env: { ...process.env, INFLUXD_CONFIG_PATH: dir } },
  });
  influxd.start();
  try {
    await waitFor(
      async () => {
        if (!influxd.running) throw new Error(`influxd exited:\n${influxd.logTail}`);
        return httpOk(`${url}/health`);
      },
      { what: 'influxd ready' },
    );
    const token = 'telly-test-token';
    const setup = await fetch(`${url}/api/v2/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'telly',
        password: 'telly-test-password',
        org: 'telly',
        bucket: 'telly',
        token,
      }),
    });
    assert.equal(setup.status, 201, await setup.text());

    const d = device(['lab']);
    const timeMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const t1 = timeMs / 1000;
    await publish(
      d,
      JSON.stringify([
        { n: 'temp', u: 'Cel', v: 21.5, t: t1 },
        { n: 'door', vb: true, t: t1 },
        { n: 'label', vs: 'hello, "world" \\ x=1', t: t1 },
        { n: 'blob', vd: 'AQID', t: t1 },
        { n: 'meter', u: 'kg m/s', v: 3, s: 100, t: t1 },
      ]),
    );
    // the same series at the same ms in a later message: one point, the later value
    const last = await publish(d, JSON.stringify([{ n: 'temp', u: 'Cel', v: 22, t: t1 }]));

    const name = 'telemetry-influx-influxd';
    const projection = influxProjection({
      url,
      token,
      org: 'telly',
      bucket: 'telly',
      name,
      minRetryDelayMs: 100,
    });
    const running = await start(projection);
    try {
      await waitAcked(last, name);
    } finally {
      await running.stop();
    }

    type Row = {
      _field: string;
      _value: unknown;
      _time: string;
      name: string;
      unit?: string;
      subtopic?: string;
    };
    const rows = await new InfluxDB({ url, token })
      .getQueryApi('telly')
      .collectRows<Row>(
        `from(bucket: "telly") |> range(start: -1d) |> filter(fn: (r) => r._measurement == "telemetry" and r.tenant == "${d.tenant}" and r.channel == "${d.channel}" and r.thing == "${d.thing}")`,
      );
    const got = rows
      .map(
        (r) =>
          `${r.name}|${r.unit ?? ''}|${r.subtopic ?? ''}|${r._field}=${JSON.stringify(r._value)}@${Date.parse(r._time)}`,
      )
      .sort();
    assert.deepEqual(
      got,
      [
        `blob||lab|data_value="AQID"@${timeMs}`,
        `door||lab|bool_value=true@${timeMs}`,
        `label||lab|string_value="hello, \\"world\\" \\\\ x=1"@${timeMs}`,
        `meter|kg m/s|lab|sum=100@${timeMs}`,
        `meter|kg m/s|lab|value=3@${timeMs}`,
        `temp|Cel|lab|value=22@${timeMs}`,
      ].sort(),
    );
  } finally {
    await influxd.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
