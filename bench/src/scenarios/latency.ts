// Publish → GraphQL subscription latency: things publish QoS 1 over MQTT at a steady aggregate
// rate (2,500 msg/s, then 20,000 msg/s) while a dashboard holds a graphql-ws subscription on their channel through
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

/** p99 targets by rate (docs/performance.md); smoke runs reuse them at its small rates. */
const TARGETS = [
  { rate: 2_500, p99Ms: 20 },
  { rate: 20_000, p99Ms: 50 },
] as const;
const MAINFLUX_P95_MS = 82;
/** Messages per second per thing: under the bridge's 100/s limit per thing. */
const RATE_PER_THING = 50;
/** MQTT connections opened at once. */
const CONNECT_AT_ONCE = 16;

const SIZES: Record<Size, { rates: readonly number[]; warmupMs: number; measureMs: number }> = {
  smoke: { rates: [250, 500], warmupMs: 1_000, measureMs: 2_000 },
  short: { rates: [2_500, 20_000], warmupMs: 3_000, measureMs: 15_000 },
  full: { rates: [2_500, 20_000], warmupMs: 5_000, measureMs: 60_000 },
};

const SUBSCRIPTION = 'subscription($c: ID!) { telemetry(channelId: $c, name: "probe") { value } }';

/** Milliseconds since the epoch with sub-millisecond precision. */
const now = () => performance.timeOrigin + performance.now();

/** What the subscription delivers during one phase. */
interface Phase {
  histogram: LatencyHistogram;
  measuring: boolean;
  received: number;
  /** Load messages (not probes) the subscription delivered. */
  deliveredLoad: number;
}

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const measureMs = ctx.durationMs ?? size.measureMs;
  const things = Math.ceil(Math.max(...size.rates) / RATE_PER_THING);
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const fleet = await provisionDevices(telly, things, ctx.signal);
  // a few at a time: the bridge holds at most 32 unauthenticated connections per address
  const clients: mqtt.MqttClient[] = [];
  for (let i = 0; i < fleet.devices.length; i += CONNECT_AT_ONCE) {
    ctx.signal.throwIfAborted();
    const chunk = fleet.devices.slice(i, i + CONNECT_AT_ONCE);
    clients.push(
      ...(await Promise.all(
        chunk.map((d) =>
          mqtt.connectAsync(`mqtt://127.0.0.1:${telly.platform.ports.mqtt}`, {
            username: d.thingId,
            password: d.key,
            protocolVersion: 4,
            reconnectPeriod: 0,
          }),
        ),
      )),
    );
  }
  const subscriber = createClient({
    url: `${telly.platform.apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${fleet.token}` },
    retryAttempts: 0,
  });
  const newPhase = (): Phase => ({
    histogram: new LatencyHistogram(),
    measuring: false,
    received: 0,
    deliveredLoad: 0,
  });
  let phase = newPhase();
  let subscriptionErrors = 0;
  const unsubscribe = subscriber.subscribe<{ telemetry: { value: number } }>(
    { query: SUBSCRIPTION, variables: { c: fleet.channelId } },
    {
      next: (r) => {
        const sent = r.data?.telemetry.value;
        if (sent === undefined) return;
        phase.received++;
        if (sent >= 0) phase.deliveredLoad++;
        if (phase.measuring && sent >= 0) phase.histogram.record(now() - sent);
      },
      error: () => {
        subscriptionErrors++;
      },
      complete: () => {},
    },
  );
  const channel = `channels/${fleet.channelId}/messages`;

  /** One steady rate from enough of the things, warm-up excluded; drained before it returns. */
  async function measureAt(rate: number) {
    phase = newPhase();
    const current = phase;
    const senders = clients.slice(0, Math.ceil(rate / RATE_PER_THING));
    /** publish → PUBACK: the part of the latency that is durable ingest (fsync included). */
    const ackHistogram = new LatencyHistogram();
    const monitor = new TreeMonitor(telly.roots, telly.names);
    let generatorCpu = selfCpu();
    let sent = 0;
    let acked = 0;
    let errors = 0;
    const tickMs = 10;
    const perTick = (rate * tickMs) / 1000;
    const started = performance.now();
    const warmupEnd = started + size.warmupMs;
    const end = warmupEnd + measureMs;
    let measuredSent = 0;
    let receivedAtStart = 0;
    // a steady rate: every tick, the messages due by now, round-robin over the things
    while (performance.now() < end) {
      ctx.signal.throwIfAborted();
      const t = performance.now();
      if (!current.measuring && t >= warmupEnd) {
        current.measuring = true;
        receivedAtStart = current.received;
        monitor.start();
        generatorCpu = selfCpu();
      }
      const due = Math.floor(((t - started) / tickMs) * perTick) - sent;
      for (let i = 0; i < due; i++) {
        const client = senders[sent % senders.length]!;
        sent++;
        if (current.measuring) measuredSent++;
        const sentAt = now();
        const inWindow = current.measuring;
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
    current.measuring = false;
    const cpu = monitor.stop();
    const generatorCpuPercent = round(generatorCpu());
    const deliveredInWindow = current.received - receivedAtStart;
    // every PUBACK in, then every acknowledged message delivered (deliveries often beat PUBACKs)
    for (let waited = 0; acked + errors < sent && waited < 10_000; waited += 100) await sleep(100);
    for (let waited = 0; current.deliveredLoad < acked && waited < 10_000; waited += 100) await sleep(100);
    await sleep(200); // a duplicate would arrive now
    return {
      rate,
      things: senders.length,
      latencyMs: current.histogram.summary(),
      publishToAckMs: ackHistogram.summary(),
      sent,
      acked,
      measuredSent,
      deliveredInWindow,
      delivered: current.deliveredLoad,
      lost: Math.max(0, acked - current.deliveredLoad),
      duplicates: Math.max(0, current.deliveredLoad - acked),
      errors,
      cpu,
      generatorCpuPercent,
    };
  }

  try {
    // the subscription's consumer starts asynchronously: probe until it delivers
    const [first] = clients;
    for (let tries = 0; phase.received === 0; tries++) {
      if (tries > 100) throw new Error('the subscription delivered nothing');
      await first!.publishAsync(channel, JSON.stringify([{ n: 'probe', v: -1 }]), { qos: 1 });
      await sleep(100);
    }
    const phases = [];
    for (const rate of size.rates) {
      ctx.log(`${rate} msg/s for ${(size.warmupMs + measureMs) / 1000} s`);
      const measured = await measureAt(rate);
      ctx.log(
        `${rate} msg/s: p50 ${measured.latencyMs.p50} ms, p99 ${measured.latencyMs.p99} ms, ${measured.lost} lost`,
      );
      phases.push(measured);
    }
    const judged = phases.map((p, i) => ({ ...p, targetP99Ms: TARGETS[i]!.p99Ms }));
    const [base] = judged;
    const s = base!.latencyMs;
    const verdicts = judged.map(
      (p) =>
        `p99 ${p.latencyMs.p99} ms ${p.latencyMs.p99 <= p.targetP99Ms ? '≤' : '>'} ${p.targetP99Ms} ms at ${p.rate.toLocaleString('en-US')} msg/s`,
    );
    return {
      // compared on p95 (what Mainflux published); the targets are on p99, in the verdict
      telly: { label: `p95 at ${base!.rate} msg/s`, value: s.p95, unit: 'ms' },
      reference: {
        label: 'Mainflux published p95',
        value: MAINFLUX_P95_MS,
        unit: 'ms',
        kind: 'published' as const,
      },
      ratio: round(s.p95 / MAINFLUX_P95_MS),
      met: judged.every((p) => p.latencyMs.p99 <= p.targetP99Ms),
      verdict: `${verdicts.join('; ')} (p95 ${s.p95} ms at ${base!.rate} vs Mainflux ${MAINFLUX_P95_MS} ms)`,
      details: {
        settings: {
          rates: size.rates,
          ratePerThing: RATE_PER_THING,
          warmupMs: size.warmupMs,
          measureMs,
          qos: 1,
          transport: 'graphql-ws',
        },
        phases: judged,
        subscriptionErrors,
        note: 'the load generator and the subscriber share this machine’s 2 cores with Telly',
      },
      versions: telly.versions,
    };
  } finally {
    unsubscribe();
    // forced and bounded: a connection the bridge dropped under load must not hold the run
    const closed = Promise.all([subscriber.dispose(), ...clients.map((c) => c.endAsync(true))]);
    await Promise.race([closed, sleep(5_000)]);
  }
}

export const latency: Scenario = {
  name: 'latency',
  title: 'Publish → GraphQL subscription latency at 2,500 and 20,000 msg/s',
  target: TARGETS.map((t) => `p99 ≤ ${t.p99Ms} ms at ${t.rate.toLocaleString('en-US')} msg/s`).join(', '),
  reference: `Mainflux published p95 ${MAINFLUX_P95_MS} ms (a constant)`,
  run: runScenario,
};
