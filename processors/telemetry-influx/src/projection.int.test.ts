import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, type TestOptions, test } from 'node:test';
import { InfluxDB } from '@influxdata/influxdb-client';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import {
  findInfluxd,
  httpOk,
  Influxd,
  type ManagedProcess,
  NatsServer,
  VictoriaMetrics,
  waitFor,
} from '@telly/harness';
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
import { INFLUX_MEASUREMENT } from './mapping.ts';
import { type InfluxProjection, influxProjection, TELEMETRY_INFLUX } from './projection.ts';

const logger = createLogger('telemetry-influx-test', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' });

// ---------------------------------------------------------------------------------------------
// the sinks: the same tests run against VictoriaMetrics and a real influxd

type Value = number | boolean | string;

/** One expected field of a point: `field` of the series `tags` at `t`. */
interface Sample {
  field: string;
  tags: Record<string, string>;
  t: number;
  v: Value;
}

const seriesKey = (field: string, tags: Record<string, string>) =>
  `${field}{${Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

/** A server the projection writes to, and how the tests read back what it holds. */
interface Sink {
  readonly process: ManagedProcess;
  /** Where the projection writes (its writer options). */
  readonly target: { url: string; token?: string; org: string; bucket: string };
  /** The same for the component, as its environment. */
  readonly env: Record<string, string>;
  /** Starts the server again after `process.stop()` (an outage), with its data. */
  resume(): Promise<void>;
  /** Every field of a `telemetry` point the sink holds for `tenants`, by series, as [time, value]. */
  read(tenants: string[]): Promise<Map<string, [number, Value][]>>;
  /** A value as the sink keeps it. */
  stored(v: Value): Value;
  stop(): Promise<void>;
}

/**
 * VictoriaMetrics turns each field into a metric `telemetry_<field>` with the tags as labels
 * and keeps numbers only: a string is stored as 0, a boolean as 0/1. Read with its export API.
 */
function victoriaMetricsSink(vm: VictoriaMetrics): Sink {
  const prefix = `${INFLUX_MEASUREMENT}_`;
  return {
    process: vm.process,
    target: { url: vm.url, org: 'telly', bucket: 'telly' },
    env: { INFLUX_URL: vm.url },
    async resume() {
      vm.process.start();
      await waitFor(() => httpOk(`${vm.url}/health`), { what: 'victoria-metrics back' });
    },
    async read(tenants) {
      await vm.flush();
      const query = new URLSearchParams({
        'match[]': `{__name__=~"${prefix}.*",tenant=~"${tenants.join('|')}"}`,
      });
      const res = await fetch(`${vm.url}/api/v1/export?${query}`);
      assert.equal(res.status, 200);
      const out = new Map<string, [number, Value][]>();
      for (const line of (await res.text()).split('\n')) {
        if (line.trim() === '') continue;
        const row = JSON.parse(line) as {
          metric: Record<string, string>;
          values: number[];
          timestamps: number[];
        };
        const { __name__: metric = '', ...tags } = row.metric;
        const key = seriesKey(metric.slice(prefix.length), tags);
        const samples = out.get(key) ?? [];
        row.timestamps.forEach((t, i) => {
          samples.push([t, row.values[i]!]);
        });
        out.set(key, samples);
      }
      return out;
    },
    stored: (v) => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : 0),
    stop: () => vm.stop(),
  };
}

/** InfluxDB keeps every field with its type. Read with Flux (`POST /api/v2/query`). */
function influxdSink(influxd: Influxd): Sink {
  const { url, token, org, bucket } = influxd;
  const queryApi = new InfluxDB({ url, token }).getQueryApi(org);
  return {
    process: influxd.process,
    target: { url, token, org, bucket },
    env: { INFLUX_URL: url, INFLUX_TOKEN: token, INFLUX_ORG: org, INFLUX_BUCKET: bucket },
    resume: () => influxd.resume(),
    async read(tenants) {
      const rows = await queryApi.collectRows<Record<string, unknown>>(
        `from(bucket: ${JSON.stringify(bucket)})
          |> range(start: 1970-01-01T00:00:00Z)
          |> filter(fn: (r) => r._measurement == ${JSON.stringify(INFLUX_MEASUREMENT)} and contains(value: r.tenant, set: ${JSON.stringify(tenants)}))`,
      );
      const out = new Map<string, [number, Value][]>();
      for (const row of rows) {
        const tags: Record<string, string> = {};
        for (const [k, v] of Object.entries(row)) {
          if (!k.startsWith('_') && k !== 'result' && k !== 'table' && typeof v === 'string' && v !== '') {
            tags[k] = v;
          }
        }
        const key = seriesKey(String(row._field), tags);
        out.set(key, [...(out.get(key) ?? []), [Date.parse(String(row._time)), row._value as Value]]);
      }
      return out;
    },
    stored: (v) => v,
    stop: () => influxd.stop(),
  };
}

/** Why influxd is not here, when setup.sh could not build it on this machine (not when it failed). */
function influxdUnavailable(): string | undefined {
  try {
    return findInfluxd().unavailable;
  } catch {
    return undefined; // the build failed where it works: Influxd.start fails the tests, naming why
  }
}

// ---------------------------------------------------------------------------------------------
// devices and readings

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

const countOf = (m: Map<string, [number, Value][]>) => [...m.values()].reduce((n, s) => n + s.length, 0);
const sortSamples = (samples: [number, Value][]) =>
  [...samples].sort((a, b) => a[0] - b[0] || String(a[1]).localeCompare(String(b[1])));

// ---------------------------------------------------------------------------------------------

/** The projection's tests against one sink, each sink with a NATS server of its own. */
function projectionTests(
  kind: string,
  openSink: () => Promise<Sink>,
  suite: { skip?: string | undefined; extra?: (ctx: () => SuiteContext, options: TestOptions) => void } = {},
) {
  // skipped test by test, so that the skips are counted
  const options: TestOptions = suite.skip === undefined ? {} : { skip: suite.skip };
  describe(`into ${kind}`, () => {
    let nats: NatsServer;
    let sink: Sink;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let js: JetStreamClient;

    before(async () => {
      if (suite.skip !== undefined) return;
      nats = await NatsServer.start();
      sink = await openSink();
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
      await Promise.all([nats?.stop(), sink?.stop()]);
    });

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
     * fields the sink must then hold.
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
      const s = (field: string, name: string, v: Value, unit?: string): Sample => ({
        field,
        tags: { ...base, name, ...(unit ? { unit } : {}) },
        t: timeMs,
        v,
      });
      return {
        seq,
        samples: [
          s('value', 'temp', i + 0.5, 'Cel'),
          s('bool_value', 'door', i % 2 === 0),
          s('string_value', 'label', `reading ${i}, "quoted"`),
          s('data_value', 'blob', 'AQID'),
          s('sum', 'energy', i * 2, 'kWh'),
          s('value', 'meter', i),
          s('sum', 'meter', i * 10),
          s('value', 'speed', 0 - i, 'kg m/s,x=1'),
        ],
      };
    }

    /** Waits until the sink holds as many fields as expected, then checks each is there exactly once. */
    async function assertExactlyOnce(expected: Sample[], from: Sink = sink): Promise<void> {
      const tenants = [...new Set(expected.map((s) => s.tags.tenant!))];
      const got = await waitFor(
        async () => {
          const m = await from.read(tenants);
          return countOf(m) >= expected.length && m;
        },
        { what: `${expected.length} samples in ${kind}`, intervalMs: 200 },
      );
      const want = new Map<string, [number, Value][]>();
      for (const s of expected) {
        const key = seriesKey(s.field, s.tags);
        want.set(key, [...(want.get(key) ?? []), [s.t, from.stored(s.v)]]);
      }
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), 'the same series');
      for (const [key, samples] of want) {
        assert.deepEqual(sortSamples(got.get(key) ?? []), sortSamples(samples), key);
      }
    }

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

    // -----------------------------------------------------------------------------------------

    test(
      `projects MESSAGES into ${kind}; survives the sink being down without acking, dropping or duplicating`,
      options,
      async () => {
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
        await publish(
          devices[0]!,
          JSON.stringify({ humidity: 40.5, ok: true }),
          'application/json',
          receivedMs,
        );
        const base0 = { tenant: devices[0]!.tenant, channel: devices[0]!.channel, thing: devices[0]!.thing };
        expected.push(
          { field: 'value', tags: { ...base0, name: 'humidity' }, t: receivedMs, v: 40.5 },
          { field: 'bool_value', tags: { ...base0, name: 'ok' }, t: receivedMs, v: true },
        );
        const phase1Last = await publishReadings(100);

        const options = {
          ...sink.target,
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
        await sink.process.stop();
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
        await sink.resume();
        projection = influxProjection(options);
        running = await start(projection);
        await waitAcked(lastSeq);
        await assertExactlyOnce(expected);
        assert.deepEqual(await deadLettered(), poison);
        assert.equal(projection.writer.health().status, 'up');
        await running.stop();
      },
    );

    test(
      `${kind} down for ${OUTAGE_MS / 1000} s under load: afterwards every point exactly once, nothing dead-lettered`,
      options,
      async () => {
        const devices = [device(), device(['greenhouse'])];
        const baseMs = Math.floor(Date.now() / 1000) * 1000 - 7_200_000;
        const expected: Sample[] = [];
        const dlqBefore = await deadLettered();
        const running = await start(
          influxProjection({ ...sink.target, batchSize: 200, maxRetryDelayMs: 2_000 }),
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
        await sink.process.stop();
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        await sink.resume();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        stop = true;
        await load;
        assert.ok(expected.length > 2_000, `load during the outage (${expected.length} samples)`);
        await waitAcked(lastSeq);
        await assertExactlyOnce(expected);
        assert.deepEqual(await deadLettered(), dlqBefore, 'an outage sends nothing to the DLQ');
        await running.stop();
      },
    );

    test(
      'the telly up component: NATS only (no DATABASE_URL), an influx health check, stops while the sink is down',
      options,
      async () => {
        const name = TELEMETRY_INFLUX;
        const d = device();
        const timeMs = Math.floor(Date.now() / 1000) * 1000 - 1_800_000;
        const startComponent = async () => {
          const health = new HealthChecks();
          const env = { ...sink.env, NATS_URL: nats.url };
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

          await sink.process.stop();
          second = await publishReading(d, 8, timeMs + 10);
          await waitFor(async () => (await health.report()).checks.influx?.status === 'down', {
            what: 'influx down',
          });
        } finally {
          const stopAt = Date.now();
          await running.stop();
          assert.ok(Date.now() - stopAt < 5_000, `stopped in ${Date.now() - stopAt} ms`);
          if (!sink.process.running) await sink.resume();
        }
        // what was published while the sink was down is written by the next run
        ({ health, running } = await startComponent());
        try {
          await waitAcked(second.seq);
          await assertExactlyOnce([...first.samples, ...second.samples]);
        } finally {
          await running.stop();
        }
      },
    );

    /**
     * The log is delivered at least once: a batch whose ack was lost (a crash between the write
     * and the ack) is delivered again, and a replay writes everything again. Here a second
     * consumer writes the same entries a second time.
     */
    test(
      'a batch written twice (redelivered after a lost ack, or replayed): one value per series and ms',
      options,
      async () => {
        const d = device(['redelivery']);
        const baseMs = Math.floor(Date.now() / 1000) * 1000 - 5_400_000;
        const expected: Sample[] = [];
        let lastSeq = 0;
        for (let i = 0; i < 20; i++) {
          const r = await publishReading(d, i, baseMs + i * 10);
          expected.push(...r.samples);
          lastSeq = r.seq;
        }
        for (const name of ['redelivery-1', 'redelivery-2']) {
          const running = await start(influxProjection({ ...sink.target, name, minRetryDelayMs: 100 }));
          await waitAcked(lastSeq, name);
          await running.stop();
          await assertExactlyOnce(expected);
        }
      },
    );

    suite.extra?.(
      () => ({ sink, nats, publish, publishReading, assertExactlyOnce, waitAcked, start }),
      options,
    );
  });
}

/** What a sink-specific test gets from its suite. */
interface SuiteContext {
  sink: Sink;
  nats: NatsServer;
  publish(d: Device, body: string, contentType?: string, receivedMs?: number): Promise<number>;
  publishReading(d: Device, i: number, timeMs: number): Promise<{ seq: number; samples: Sample[] }>;
  assertExactlyOnce(expected: Sample[], from?: Sink): Promise<void>;
  waitAcked(lastSeq: number, name?: string): Promise<void>;
  start(projection: InfluxProjection): Promise<{ stop(): Promise<void> }>;
}

/** How long the sink stays down under load. */
const OUTAGE_MS = Number(process.env.TELLY_OUTAGE_MS ?? 30_000);

// ---------------------------------------------------------------------------------------------

projectionTests('VictoriaMetrics', async () => victoriaMetricsSink(await VictoriaMetrics.start()), {
  extra: (ctx, options) => {
    test(
      'without -dedup.minScrapeInterval VictoriaMetrics keeps both samples of a point written twice',
      options,
      async () => {
        const { publishReading, waitAcked, start } = ctx();
        const raw = victoriaMetricsSink(await VictoriaMetrics.start({ deduplicate: false }));
        try {
          const d = device(['no-dedup']);
          const timeMs = Math.floor(Date.now() / 1000) * 1000 - 4_000_000;
          const r = await publishReading(d, 3, timeMs);
          for (const name of ['no-dedup-1', 'no-dedup-2']) {
            const running = await start(influxProjection({ ...raw.target, name, minRetryDelayMs: 100 }));
            await waitAcked(r.seq, name);
            await running.stop();
          }
          const got = await raw.read([d.tenant]);
          assert.equal(got.size, r.samples.length);
          for (const s of r.samples) {
            const stored = raw.stored(s.v);
            assert.deepEqual(got.get(seriesKey(s.field, s.tags)), [
              [timeMs, stored],
              [timeMs, stored],
            ]);
          }
        } finally {
          await raw.stop();
        }
      },
    );

    test(
      'the same series and ms in a later message: VictoriaMetrics keeps one of the two values (InfluxDB: the later)',
      options,
      async () => {
        const { sink, publish, waitAcked, start } = ctx();
        const d = device(['lab']);
        const timeMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
        await publish(d, JSON.stringify([{ n: 'temp', u: 'Cel', v: 21.5, t: timeMs / 1000 }]));
        const last = await publish(d, JSON.stringify([{ n: 'temp', u: 'Cel', v: 22, t: timeMs / 1000 }]));
        const name = 'telemetry-influx-same-ms';
        const running = await start(influxProjection({ ...sink.target, name, minRetryDelayMs: 100 }));
        await waitAcked(last, name);
        await running.stop();
        const tags = {
          tenant: d.tenant,
          channel: d.channel,
          thing: d.thing,
          subtopic: 'lab',
          name: 'temp',
          unit: 'Cel',
        };
        const samples = (await sink.read([d.tenant])).get(seriesKey('value', tags)) ?? [];
        assert.equal(samples.length, 1, JSON.stringify(samples));
        assert.equal(samples[0]![0], timeMs);
        assert.ok([21.5, 22].includes(samples[0]![1] as number), JSON.stringify(samples));
      },
    );
  },
});

projectionTests('influxd (InfluxDB 2.x)', async () => influxdSink(await Influxd.start()), {
  skip: influxdUnavailable(),
  extra: (ctx, options) => {
    test(
      'against influxd (InfluxDB 2.x): tags, every field type, last write wins per series and ms',
      options,
      async () => {
        const { sink, publish, waitAcked, start } = ctx();
        const { url, token } = sink.target;
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
        const projection = influxProjection({ ...sink.target, name, minRetryDelayMs: 100 });
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
        const rows = await new InfluxDB({ url, ...(token === undefined ? {} : { token }) })
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
      },
    );
  },
});
