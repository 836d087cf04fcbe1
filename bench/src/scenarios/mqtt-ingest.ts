// MQTT QoS1 ingest: many connections publish 3-record SenML packs at QoS 1, every one PUBACKed,
// against Telly's MQTT bridge and against nats-server's own MQTT capturing into a JetStream
// stream (same generator, same settings, runs rotated), the unpatched server twice: with its
// defaults (what a user running it gets; sync_interval 2m, so it acks before the data is synced:
// not durable) and with sync_interval always (durable, one fsync per message). The measure is
// messages stored per second (see lib/durable-rate.ts); the target is against the defaults.
import { setTimeout as sleep } from 'node:timers/promises';
import { STREAMS } from '@telly/schemas';
import { TELEMETRY_PG } from '@telly/telemetry-pg';
import { alternateSides } from '../lib/alternate.ts';
import { durableRate, storedAtLeast } from '../lib/durable-rate.ts';
import { LatencyHistogram, type LatencySummary } from '../lib/histogram.ts';
import { probeJetStream } from '../lib/jetstream.ts';
import { selfCpu, TreeMonitor, type TreeUsage } from '../lib/process-tree.ts';
import { ratioVerdict } from '../lib/ratio.ts';
import { type DeviceCredentials, Fleet } from '../lib/simulator.ts';
import { median, round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import { usageSummary } from '../lib/usage.ts';
import {
  NATS_DEFAULT_SYNC_INTERVAL,
  REFERENCE_STREAM,
  startNatsMqttReference,
} from '../reference/nats-mqtt.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_RATIO = 0.5;
const VALUES = 3;
/** Unacknowledged publishes per connection. */
const MAX_INFLIGHT = 5;
/** Per connection, under the bridge's 100 msg/s per thing; far above what either side reaches. */
const RATE_PER_DEVICE = 80;

const SIZES: Record<Size, { devices: number; warmupMs: number; measureMs: number; runs: number }> = {
  smoke: { devices: 5, warmupMs: 1_000, measureMs: 2_000, runs: 1 },
  short: { devices: 200, warmupMs: 3_000, measureMs: 10_000, runs: 3 },
  full: { devices: 200, warmupMs: 5_000, measureMs: 30_000, runs: 5 },
};

interface Target {
  mqttUrl: string;
  stored(): Promise<number>;
  monitor(): TreeMonitor;
  /** Before a run: let background work of the previous one finish (Telly's projection). */
  settle(): Promise<void>;
}

interface RunResult {
  durablePerSecond: number;
  ackedPerSecond: number;
  storeLagMs: number;
  acked: number;
  errors: number;
  disconnects: number;
  /** Acknowledged but not in the stream (must be 0). */
  missing: number;
  ackLatency: LatencySummary;
  cpu: TreeUsage;
  generatorCpuPercent: number;
}

async function run(
  target: Target,
  devices: readonly DeviceCredentials[],
  size: { warmupMs: number; measureMs: number },
  signal: AbortSignal,
): Promise<RunResult> {
  await target.settle();
  const base = await target.stored();
  const latency = new LatencyHistogram();
  let measuring = false;
  await using fleet = new Fleet({
    protocol: 'mqtt',
    url: target.mqttUrl,
    devices,
    rate: RATE_PER_DEVICE,
    maxInflight: MAX_INFLIGHT,
    values: VALUES,
    connectRate: 1_000,
    onAck: (ack) => {
      if (measuring) latency.record(ack.latencyMs);
    },
  });
  await fleet.connect(signal);
  fleet.start();
  await sleep(size.warmupMs, undefined, { signal });

  const monitor = target.monitor();
  const storedAtStart = await target.stored();
  const ackedAtStart = fleet.counters().acked;
  const generatorCpu = selfCpu();
  monitor.start();
  const startedAt = performance.now();
  measuring = true;
  await sleep(size.measureMs, undefined, { signal });
  measuring = false;
  const endedAt = performance.now();
  const ackedAtEnd = fleet.counters().acked;
  const cpu = monitor.stop();
  const generatorCpuPercent = generatorCpu();
  const stopping = fleet.stop(); // no more sends from here on; outstanding ones drain
  const { rate, storeLagMs } = await durableRate(
    { storedAtStart, startedAt, target: base + ackedAtEnd, endedAt },
    () => target.stored(),
  );
  const final = await stopping;
  // everything acknowledged, warm-up and drain included, must end up in the stream
  const storedAtEnd = await storedAtLeast(() => target.stored(), base + final.acked, 30_000);
  return {
    durablePerSecond: rate,
    ackedPerSecond: (ackedAtEnd - ackedAtStart) / ((endedAt - startedAt) / 1000),
    storeLagMs,
    acked: ackedAtEnd - ackedAtStart,
    errors: final.errors,
    disconnects: final.disconnects,
    missing: Math.max(0, base + final.acked - storedAtEnd),
    ackLatency: latency.summary(),
    cpu,
    generatorCpuPercent,
  };
}

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const runs = ctx.runs ?? size.runs;
  const measureMs = ctx.durationMs ?? size.measureMs;
  ctx.log('starting Telly and the nats-server MQTT references (defaults, sync_interval always)');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  await using reference = await startNatsMqttReference(NATS_DEFAULT_SYNC_INTERVAL);
  await using always = await startNatsMqttReference(ctx.natsSyncInterval ?? 'always');
  await using tellyJs = await probeJetStream(telly.nats);
  await using referenceJs = await probeJetStream({ servers: [reference.natsUrl] });
  await using alwaysJs = await probeJetStream({ servers: [always.natsUrl] });
  ctx.log(`provisioning ${size.devices} things`);
  const { devices } = await provisionDevices(telly, size.devices, ctx.signal);

  const tellyTarget: Target = {
    mqttUrl: `mqtt://127.0.0.1:${telly.platform.ports.mqtt}`,
    stored: () => tellyJs.stored(STREAMS.MESSAGES.name),
    monitor: () => new TreeMonitor(telly.roots, telly.names),
    settle: () => tellyJs.caughtUp(STREAMS.MESSAGES.name, TELEMETRY_PG),
  };
  const referenceTarget: Target = {
    mqttUrl: reference.mqttUrl,
    stored: () => referenceJs.stored(REFERENCE_STREAM),
    monitor: () => new TreeMonitor([reference.pid], new Map([[reference.pid, 'nats-server']])),
    settle: async () => {},
  };
  const alwaysTarget: Target = {
    mqttUrl: always.mqttUrl,
    stored: () => alwaysJs.stored(REFERENCE_STREAM),
    monitor: () => new TreeMonitor([always.pid], new Map([[always.pid, 'nats-server']])),
    settle: async () => {},
  };
  const sizing = { ...size, measureMs };
  const results = await alternateSides(
    runs,
    {
      telly: () => run(tellyTarget, devices, sizing, ctx.signal),
      reference: () => run(referenceTarget, devices, sizing, ctx.signal),
      referenceAlways: () => run(alwaysTarget, devices, sizing, ctx.signal),
    },
    ctx.log,
  );
  // every message Telly acknowledged must be in MESSAGES and, once caught up, projected
  await tellyJs.caughtUp(STREAMS.MESSAGES.name, TELEMETRY_PG);
  const tellyRate = median(results.telly.map((r) => r.durablePerSecond));
  const referenceRate = median(results.reference.map((r) => r.durablePerSecond));
  const alwaysRate = median(results.referenceAlways.map((r) => r.durablePerSecond));
  const summarize = (list: RunResult[]) => ({
    durablePerSecond: list.map((r) => round(r.durablePerSecond)),
    ackedPerSecond: list.map((r) => round(r.ackedPerSecond)),
    storeLagMs: list.map((r) => Math.round(r.storeLagMs)),
    errors: list.reduce((sum, r) => sum + r.errors, 0),
    disconnects: list.reduce((sum, r) => sum + r.disconnects, 0),
    missing: list.reduce((sum, r) => sum + r.missing, 0),
    ...usageSummary(list, (r) => r.ackLatency),
  });
  const verdict = ratioVerdict(
    {
      label: 'durably stored',
      unit: 'msg/s',
      referenceLabel: 'stored, acked before fsync (nats-server defaults)',
    },
    tellyRate,
    referenceRate,
    TARGET_RATIO,
  );
  return {
    ...verdict,
    verdict: `${verdict.verdict} its defaults; ${round(tellyRate / alwaysRate, 2)}× its sync_interval always (${round(alwaysRate)} msg/s)`,
    details: {
      settings: {
        connections: size.devices,
        maxInflightPerConnection: MAX_INFLIGHT,
        rateCapPerConnection: RATE_PER_DEVICE,
        recordsPerPack: VALUES,
        qos: 1,
        warmupSeconds: size.warmupMs / 1000,
        measureSeconds: measureMs / 1000,
        runs,
      },
      telly: summarize(results.telly),
      reference: { syncInterval: NATS_DEFAULT_SYNC_INTERVAL, ...summarize(results.reference) },
      referenceAlways: {
        syncInterval: ctx.natsSyncInterval ?? 'always',
        ...summarize(results.referenceAlways),
      },
      ratioToAlways: round(tellyRate / alwaysRate),
    },
    versions: { postgres: telly.versions.postgres, natsServer: reference.version },
  };
}

export const mqttIngest: Scenario = {
  name: 'mqtt-ingest',
  title: 'MQTT QoS1 ingest, SenML, durably acked',
  target: `≥ ${TARGET_RATIO}× its defaults' msg/s`,
  reference: "nats-server's own MQTT → JetStream stream, unpatched: its defaults, and sync_interval always",
  run: runScenario,
};
