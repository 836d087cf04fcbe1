// Publish → GraphQL subscription latency: things publish QoS 1 over MQTT at a steady aggregate
// rate (2,500 msg/s) while a dashboard holds a graphql-ws subscription on their channel through
// the API port; each record carries its send instant as its value, so the subscriber measures
// publish → delivery in one clock. The reference is Mainflux's published p95 (82 ms), a
// constant: nothing comparable can run beside it here.
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { LatencyHistogram } from '../lib/histogram.ts';
import { selfCpu, TreeMonitor } from '../lib/process-tree.ts';
import { round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_P99_MS = 20;
const MAINFLUX_P95_MS = 82;
/** Messages per second per thing: under the bridge's 100/s limit per thing. */
const RATE_PER_THING = 50;

const SIZES: Record<Size, { rate: number; warmupMs: number; measureMs: number }> = {
  smoke: { rate: 250, warmupMs: 1_000, measureMs: 2_000 },
  short: { rate: 2_500, warmupMs: 3_000, measureMs: 15_000 },
  full: { rate: 2_500, warmupMs: 5_000, measureMs: 60_000 },
};

const SUBSCRIPTION = 'subscription($c: ID!) { telemetry(channelId: $c, name: "probe") { value } }';

/** Milliseconds since the epoch with sub-millisecond precision. */
const now = () => performance.timeOrigin + performance.now();

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const measureMs = ctx.durationMs ?? size.measureMs;
  const things = Math.ceil(size.rate / RATE_PER_THING);
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const fleet = await provisionDevices(telly, things, ctx.signal);
  const clients = await Promise.all(
    fleet.devices.map((d) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${telly.platform.ports.mqtt}`, {
        username: d.thingId,
        password: d.key,
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ),
  );
  const subscriber = createClient({
    url: `${telly.platform.apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${fleet.token}` },
    retryAttempts: 0,
  });
  const histogram = new LatencyHistogram();
  /** publish → PUBACK: the part of the latency that is durable ingest (fsync included). */
  const ackHistogram = new LatencyHistogram();
  let measuring = false;
  let received = 0;
  /** Load messages (not probes) the subscription delivered. */
  let deliveredLoad = 0;
  let errors = 0;
  const unsubscribe = subscriber.subscribe<{ telemetry: { value: number } }>(
    { query: SUBSCRIPTION, variables: { c: fleet.channelId } },
    {
      next: (r) => {
        const sent = r.data?.telemetry.value;
        if (sent === undefined) return;
        received++;
        if (sent >= 0) deliveredLoad++;
        if (measuring && sent >= 0) histogram.record(now() - sent);
      },
      error: () => {
        errors++;
      },
      complete: () => {},
    },
  );
  try {
    // the subscription's consumer starts asynchronously: probe until it delivers
    const [first] = clients;
    const channel = `channels/${fleet.channelId}/messages`;
    for (let tries = 0; received === 0; tries++) {
      if (tries > 100) throw new Error('the subscription delivered nothing');
      await first!.publishAsync(channel, JSON.stringify([{ n: 'probe', v: -1 }]), { qos: 1 });
      await sleep(100);
    }
    const monitor = new TreeMonitor(telly.roots, telly.names);
    const generatorCpu = selfCpu();
    let sent = 0;
    let acked = 0;
    const tickMs = 10;
    const perTick = (size.rate * tickMs) / 1000;
    const started = performance.now();
    const warmupEnd = started + size.warmupMs;
    const end = warmupEnd + measureMs;
    let measuredSent = 0;
    let receivedAtStart = 0;
    // a steady rate: every tick, the messages due by now, round-robin over the things
    while (performance.now() < end) {
      ctx.signal.throwIfAborted();
      const t = performance.now();
      if (!measuring && t >= warmupEnd) {
        measuring = true;
        receivedAtStart = received;
        monitor.start();
      }
      const due = Math.floor(((t - started) / tickMs) * perTick) - sent;
      for (let i = 0; i < due; i++) {
        const client = clients[sent % clients.length]!;
        sent++;
        if (measuring) measuredSent++;
        const sentAt = now();
        const inWindow = measuring;
        client.publishAsync(channel, JSON.stringify([{ n: 'probe', v: sentAt }]), { qos: 1 }).then(
          () => {
            acked++;
            if (inWindow) ackHistogram.record(now() - sentAt);
          },
          () => {
            errors++;
          },
        );
      }
      await sleep(tickMs);
    }
    measuring = false;
    const cpu = monitor.stop();
    const deliveredInWindow = received - receivedAtStart;
    // every PUBACK in, then every acknowledged message delivered (deliveries often beat PUBACKs)
    for (let waited = 0; acked + errors < sent && waited < 10_000; waited += 100) await sleep(100);
    for (let waited = 0; deliveredLoad < acked && waited < 10_000; waited += 100) await sleep(100);
    await sleep(200); // a duplicate would arrive now
    const s = histogram.summary();
    return {
      // compared on p95 (what Mainflux published); the target is on p99, in the verdict
      telly: { label: `p95 at ${size.rate} msg/s`, value: s.p95, unit: 'ms' },
      reference: {
        label: 'Mainflux published p95',
        value: MAINFLUX_P95_MS,
        unit: 'ms',
        kind: 'published' as const,
      },
      ratio: round(s.p95 / MAINFLUX_P95_MS),
      met: s.p99 <= TARGET_P99_MS,
      verdict: `p99 ${s.p99} ms ${s.p99 <= TARGET_P99_MS ? '≤' : '>'} ${TARGET_P99_MS} ms (p95 ${s.p95} ms vs Mainflux ${MAINFLUX_P95_MS} ms)`,
      details: {
        settings: {
          rate: size.rate,
          things,
          warmupMs: size.warmupMs,
          measureMs,
          qos: 1,
          transport: 'graphql-ws',
        },
        latencyMs: s,
        publishToAckMs: ackHistogram.summary(),
        sent,
        acked,
        measuredSent,
        deliveredInWindow,
        delivered: deliveredLoad,
        lost: Math.max(0, acked - deliveredLoad),
        duplicates: Math.max(0, deliveredLoad - acked),
        errors,
        cpu,
        generatorCpuPercent: round(generatorCpu()),
        note: 'the load generator and the subscriber share this machine’s 2 cores with Telly',
      },
      versions: telly.versions,
    };
  } finally {
    unsubscribe();
    await subscriber.dispose();
    await Promise.all(clients.map((c) => c.endAsync()));
  }
}

export const latency: Scenario = {
  name: 'latency',
  title: 'Publish → GraphQL subscription latency at 2,500 msg/s',
  target: `p99 ≤ ${TARGET_P99_MS} ms`,
  reference: `Mainflux published p95 ${MAINFLUX_P95_MS} ms (a constant)`,
  run: runScenario,
};
