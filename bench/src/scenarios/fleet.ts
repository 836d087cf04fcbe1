// Sustained fleet: thousands of simulated MQTT devices (3 values per pack, QoS 1, connections
// ramped up) publish at a steady rate with every projection running; measures the data points
// stored per second (the telemetry projection's progress), publish → row visible latency, the
// CPU and memory of the whole `telly up` process tree, and loss = acknowledged − stored, counted
// per thing in `telemetry` once the projection caught up. The load generator shares the machine.
import { setTimeout as sleep } from 'node:timers/promises';
import { STREAMS } from '@telly/schemas';
import { TELEMETRY_PG } from '@telly/telemetry-pg';
import pg from 'pg';
import { FleetGroup } from '../lib/fleet-group.ts';
import { LatencyHistogram } from '../lib/histogram.ts';
import { probeJetStream } from '../lib/jetstream.ts';
import { selfCpu, TreeMonitor } from '../lib/process-tree.ts';
import { round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import { POLL_INTERVAL_MS, VisibilityProbe } from '../lib/visibility-probe.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_POINTS_PER_SECOND = 60_000;
/** ThingsBoard's published 2-vCPU figure (at 95% CPU): a constant, not measured here. */
const THINGSBOARD_POINTS_PER_SECOND = 15_000;
const VALUES = 3;
const PROGRESS_EVERY_MS = 10_000;

/** Every size offers the target (devices × rate × 3 = 60k points/s); short mode with fewer, busier devices. */
const SIZES: Record<
  Size,
  { devices: number; rate: number; connectRate: number; warmupMs: number; measureMs: number; probes: number }
> = {
  smoke: { devices: 10, rate: 5, connectRate: 100, warmupMs: 1_000, measureMs: 3_000, probes: 5 },
  short: { devices: 500, rate: 40, connectRate: 250, warmupMs: 5_000, measureMs: 40_000, probes: 50 },
  full: { devices: 5_000, rate: 4, connectRate: 500, warmupMs: 30_000, measureMs: 600_000, probes: 100 },
};

/**
 * The fleet against a fresh Telly: `telly up` on one machine, or with `clusterInstances`, that many
 * supervisors on a 3-server NATS cluster with R3 streams (the fleet spread over their bridges).
 */
export async function measureFleet(ctx: ScenarioContext, clusterInstances?: number) {
  const size = SIZES[ctx.size];
  const measureMs = ctx.durationMs ?? size.measureMs;
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
    clusterInstances,
  });
  await using js = await probeJetStream(telly.nats);
  const pool = new pg.Pool({ connectionString: telly.databaseUrl, max: 2 });
  try {
    ctx.log(`provisioning ${size.devices} things`);
    const provisionStarted = performance.now();
    const { devices } = await provisionDevices(telly, size.devices, ctx.signal);
    const provisionSeconds = (performance.now() - provisionStarted) / 1000;

    const ackLatency = new LatencyHistogram();
    await using probe = new VisibilityProbe(
      pool,
      devices.slice(0, size.probes).map((d) => d.thingId),
      'temperature',
      new Date(Date.now() - 60_000),
    );
    let measuring = false;
    await using fleet = new FleetGroup(telly.mqttUrls, {
      protocol: 'mqtt',
      devices,
      rate: size.rate,
      values: VALUES,
      connectRate: size.connectRate,
      onAck: (ack) => {
        if (!measuring) return;
        ackLatency.record(ack.latencyMs);
        probe.sent(ack.thingId, ack.sentAt);
      },
    });
    ctx.log(`connecting ${size.devices} devices at ${size.connectRate}/s`);
    const connectStarted = performance.now();
    await fleet.connect(ctx.signal);
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    fleet.start();
    probe.start();
    await sleep(size.warmupMs, undefined, { signal: ctx.signal });

    const monitor = new TreeMonitor(telly.roots, telly.names);
    const generatorCpu = selfCpu();
    const floorAtStart = await js.ackFloor(STREAMS.MESSAGES.name, TELEMETRY_PG);
    const ackedAtStart = fleet.counters().acked;
    monitor.start();
    const startedAt = performance.now();
    measuring = true;
    ctx.log(`measuring for ${measureMs / 1000} s`);
    const progress = setInterval(() => {
      void Promise.all([
        js.stored(STREAMS.MESSAGES.name),
        js.ackFloor(STREAMS.MESSAGES.name, TELEMETRY_PG),
      ]).then(
        ([last, floor]) => {
          const c = fleet.counters();
          const seconds = (performance.now() - startedAt) / 1000;
          ctx.log(
            `${seconds.toFixed(0)} s: ${Math.round(((c.acked - ackedAtStart) * VALUES) / seconds)} points/s acked, projection ${last - floor} messages behind, ${c.errors} errors`,
          );
        },
        () => {},
      );
    }, PROGRESS_EVERY_MS);
    try {
      await sleep(measureMs, undefined, { signal: ctx.signal });
    } finally {
      clearInterval(progress);
    }
    measuring = false;
    const seconds = (performance.now() - startedAt) / 1000;
    const floorAtEnd = await js.ackFloor(STREAMS.MESSAGES.name, TELEMETRY_PG);
    const lagAtEnd = (await js.stored(STREAMS.MESSAGES.name)) - floorAtEnd;
    const ackedAtEnd = fleet.counters().acked;
    const cpu = monitor.stop();
    const generatorCpuPercent = generatorCpu();

    const counters = await fleet.stop();
    const catchUpStarted = performance.now();
    await js.caughtUp(STREAMS.MESSAGES.name, TELEMETRY_PG);
    const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
    await probe.finish(10_000);

    const { rows } = await pool.query<{ thing_id: string; points: string }>(
      'SELECT thing_id::text, count(*) AS points FROM telemetry GROUP BY thing_id',
    );
    const storedByThing = new Map(rows.map((r) => [r.thing_id, Number(r.points)]));
    let lost = 0;
    let extra = 0;
    let storedPoints = 0;
    for (const [thing, acked] of fleet.ackedByThing()) {
      const stored = storedByThing.get(thing) ?? 0;
      storedPoints += stored;
      lost += Math.max(0, acked * VALUES - stored);
      extra += Math.max(0, stored - acked * VALUES);
    }
    const storedPerSecond = ((floorAtEnd - floorAtStart) * VALUES) / seconds;
    const met = storedPerSecond >= TARGET_POINTS_PER_SECOND && lost === 0;
    return {
      telly: { label: 'data points stored', value: round(storedPerSecond), unit: 'points/s' },
      reference: {
        label: 'ThingsBoard, 2 vCPU at 95% CPU (published)',
        value: THINGSBOARD_POINTS_PER_SECOND,
        unit: 'points/s',
        kind: 'published' as const,
      },
      ratio: round(storedPerSecond / THINGSBOARD_POINTS_PER_SECOND),
      met,
      verdict: `${round(storedPerSecond)} points/s ${storedPerSecond >= TARGET_POINTS_PER_SECOND ? '≥' : '<'} ${TARGET_POINTS_PER_SECOND}, ${lost} lost`,
      details: {
        settings: {
          devices: size.devices,
          ratePerDevice: size.rate,
          valuesPerPack: VALUES,
          offeredPointsPerSecond: size.devices * size.rate * VALUES,
          qos: 1,
          maxInflightPerDevice: 1,
          connectRate: size.connectRate,
          warmupSeconds: size.warmupMs / 1000,
          measureSeconds: round(seconds),
          probeDevices: size.probes,
          visibilityPollMs: POLL_INTERVAL_MS,
        },
        provisionSeconds: round(provisionSeconds),
        connectSeconds: round(connectSeconds),
        ackedPointsPerSecond: round(((ackedAtEnd - ackedAtStart) * VALUES) / seconds),
        projectionLagAtEndMessages: lagAtEnd,
        catchUpSeconds: round(catchUpSeconds),
        counters,
        ackedPoints: counters.acked * VALUES,
        storedPoints,
        lostPoints: lost,
        extraPoints: extra,
        ackLatencyMs: ackLatency.summary(),
        publishToVisibleMs: {
          ...probe.latency.summary(),
          unresolved: probe.outstanding,
          ...(probe.error ? { error: String(probe.error) } : {}),
        },
        cpu,
        generatorCpuPercent,
      },
      versions: telly.versions,
    };
  } finally {
    await pool.end();
  }
}

export const fleet: Scenario = {
  name: 'fleet',
  title: 'Sustained mixed load: 5,000 MQTT devices, 3 values each, 2 cores, 10 min',
  target: `≥ ${TARGET_POINTS_PER_SECOND / 1000}k data points/s, zero loss`,
  reference: "ThingsBoard's published 2-vCPU figure: 15k data points/s at 95% CPU",
  run: (ctx) => measureFleet(ctx),
};
