// HTTP ingest: keep-alive POSTs of 10-record SenML packs with autocannon, rotating over many
// things (each request carries the next thing's key and channel, so no thing nears the
// bridge's per-thing rate limit), against Telly's HTTP bridge and against a bare node:http
// server answering 202 with the same settings, runs alternated. The measure is 202s per second.

import { STREAMS } from '@telly/schemas';
import { TELEMETRY_PG } from '@telly/telemetry-pg';
import autocannon from 'autocannon';
import { alternate } from '../lib/alternate.ts';
import { LatencyHistogram, type LatencySummary } from '../lib/histogram.ts';
import { probeJetStream } from '../lib/jetstream.ts';
import { selfCpu, TreeMonitor, type TreeUsage } from '../lib/process-tree.ts';
import { ratioVerdict } from '../lib/ratio.ts';
import { type DeviceCredentials, SensorBoard } from '../lib/simulator.ts';
import { median, round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import { usageSummary } from '../lib/usage.ts';
import { startBareHttpServer } from '../reference/bare-http.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_RATIO = 0.5;
const RECORDS = 10;

const SIZES: Record<
  Size,
  { things: number; connections: number; warmupS: number; measureS: number; runs: number }
> = {
  smoke: { things: 5, connections: 5, warmupS: 1, measureS: 2, runs: 1 },
  short: { things: 200, connections: 50, warmupS: 3, measureS: 10, runs: 3 },
  full: { things: 200, connections: 50, warmupS: 5, measureS: 30, runs: 5 },
};

/** A 10-record pack, as the simulator's board writes it, stamped with one base time. */
export const pack = (timeMs: number) => JSON.stringify(new SensorBoard(RECORDS).read(timeMs));

/** An HTTP server under autocannon: Telly's bridge, or the bare reference. */
export interface Target {
  url: string;
  monitor(): TreeMonitor;
  settle(): Promise<void>;
}

/** One measured run of an ingest side (also coap-ingest's). */
export interface RunResult {
  perSecond: number;
  accepted: number;
  /** Answers that mean stored (202s here) of the warm-up and the measured run. */
  acceptedTotal: number;
  refused: Record<string, number>;
  errors: number;
  latency: LatencySummary;
  cpu: TreeUsage;
  generatorCpuPercent: number;
}

/** What the report shows of one side's runs. */
export const summarize = (list: RunResult[]) => ({
  perSecond: list.map((r) => round(r.perSecond)),
  accepted: list.reduce((sum, r) => sum + r.accepted, 0),
  refused: list.map((r) => r.refused),
  errors: list.reduce((sum, r) => sum + r.errors, 0),
  ...usageSummary(list, (r) => r.latency),
});

/** One autocannon run; `done` resolves with its result. */
function load(
  url: string,
  devices: readonly DeviceCredentials[],
  connections: number,
  seconds: number,
  body: string,
): { instance: autocannon.Instance; done: Promise<autocannon.Result> } {
  let next = 0;
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections,
        pipelining: 1,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/senml+json' },
        body,
        requests: [
          {
            setupRequest: (request) => {
              const device = devices[next++ % devices.length]!;
              return {
                ...request,
                path: `/channels/${device.channelId}/messages`,
                headers: { ...request.headers, authorization: `Thing ${device.key}` },
              };
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  return { instance: instance!, done };
}

/** Runs autocannon to the end, or stops it when `signal` aborts. */
async function finish(
  run: { instance: autocannon.Instance; done: Promise<autocannon.Result> },
  signal: AbortSignal,
): Promise<autocannon.Result> {
  const stop = () => run.instance.stop();
  signal.addEventListener('abort', stop, { once: true });
  try {
    return await run.done;
  } finally {
    signal.removeEventListener('abort', stop);
    signal.throwIfAborted();
  }
}

/** What one load run of an ingest side answered. */
export interface SideRun {
  /** Answers that mean stored. */
  accepted: number;
  refused: Record<string, number>;
  errors: number;
  seconds: number;
}

/** One load run against an ingest side with the same packs: `onAnswer` gets each stored answer's latency (ms). */
export type Side = (body: string, seconds: number, onAnswer?: (ms: number) => void) => Promise<SideRun>;

/**
 * Warms up, then measures one run of `side` while the server's process tree is monitored: the
 * run every ingest scenario reports (this one's HTTP targets, coap-ingest's CoAP bridge).
 */
export async function measureSide(
  target: Pick<Target, 'monitor' | 'settle'>,
  side: Side,
  size: { warmupS: number; measureS: number },
): Promise<RunResult> {
  await target.settle();
  const body = pack(Date.now());
  const warmedUp = await side(body, size.warmupS);
  const latency = new LatencyHistogram();
  const monitor = target.monitor();
  const generatorCpu = selfCpu();
  monitor.start();
  const measured = await side(body, size.measureS, (ms) => latency.record(ms));
  return {
    perSecond: measured.accepted / measured.seconds,
    accepted: measured.accepted,
    acceptedTotal: warmedUp.accepted + measured.accepted,
    refused: measured.refused,
    errors: measured.errors,
    latency: latency.summary(),
    cpu: monitor.stop(),
    generatorCpuPercent: generatorCpu(),
  };
}

/** Measures one autocannon run against `target` (also coap-ingest's HTTP side). */
export function run(
  target: Target,
  devices: readonly DeviceCredentials[],
  size: { connections: number; warmupS: number; measureS: number },
  signal: AbortSignal,
): Promise<RunResult> {
  const autocannonSide: Side = async (body, seconds, onAnswer) => {
    const refused: Record<string, number> = {};
    const running = load(target.url, devices, size.connections, seconds, body);
    running.instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status === 202) onAnswer?.(responseTime);
      else refused[status] = (refused[status] ?? 0) + 1;
    });
    const result = await finish(running, signal);
    return { accepted: result['2xx'], refused, errors: result.errors, seconds: result.duration };
  };
  return measureSide(target, autocannonSide, size);
}

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const runs = ctx.runs ?? size.runs;
  const measureS = ctx.durationMs ? ctx.durationMs / 1000 : size.measureS;
  ctx.log('starting Telly and the bare HTTP reference');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  await using reference = await startBareHttpServer();
  await using js = await probeJetStream(telly.nats);
  ctx.log(`provisioning ${size.things} things`);
  const { devices } = await provisionDevices(telly, size.things, ctx.signal);
  const storedBefore = await js.stored(STREAMS.MESSAGES.name);

  const tellyTarget: Target = {
    url: `http://127.0.0.1:${telly.platform.ports.http}`,
    monitor: () => new TreeMonitor(telly.roots, telly.names),
    settle: () => js.caughtUp(STREAMS.MESSAGES.name, TELEMETRY_PG),
  };
  const referenceTarget: Target = {
    url: reference.url,
    monitor: () => new TreeMonitor([reference.pid], new Map([[reference.pid, 'bare-http-server']])),
    settle: async () => {},
  };
  const results = await alternate(
    runs,
    () => run(tellyTarget, devices, { ...size, measureS }, ctx.signal),
    () => run(referenceTarget, devices, { ...size, measureS }, ctx.signal),
    ctx.log,
  );
  const tellyRate = median(results.telly.map((r) => r.perSecond));
  const referenceRate = median(results.reference.map((r) => r.perSecond));
  // a 202 means stored: MESSAGES must have grown by every 202 Telly answered
  const stored = (await js.stored(STREAMS.MESSAGES.name)) - storedBefore;
  const accepted = results.telly.reduce((sum, r) => sum + r.acceptedTotal, 0);
  return {
    ...ratioVerdict({ label: '202 answers', unit: 'req/s' }, tellyRate, referenceRate, TARGET_RATIO),
    details: {
      settings: {
        things: size.things,
        connections: size.connections,
        pipelining: 1,
        recordsPerPack: RECORDS,
        packBytes: Buffer.byteLength(pack(Date.now())),
        warmupSeconds: size.warmupS,
        measureSeconds: measureS,
        runs,
      },
      tellyAccepted: accepted,
      tellyStored: stored,
      tellyMissing: Math.max(0, accepted - stored),
      telly: summarize(results.telly),
      reference: summarize(results.reference),
    },
    versions: { postgres: telly.versions.postgres, natsServer: telly.versions.natsServer },
  };
}

export const httpIngest: Scenario = {
  name: 'http-ingest',
  title: 'HTTP ingest, 10-record packs',
  target: `≥ ${TARGET_RATIO}× its req/s`,
  reference: 'bare Node HTTP server answering 202',
  run: runScenario,
};
