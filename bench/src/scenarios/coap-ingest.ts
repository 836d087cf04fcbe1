// CoAP ingest: confirmable POSTs of 10-record SenML packs from many endpoints, each one request
// at a time (NSTART = 1) and rotating over many things, against Telly's CoAP bridge; beside it,
// in the same run and on the same Telly, the HTTP bridge under autocannon with as many
// keep-alive connections and the same packs. Both answer only after the JetStream ack, so the
// ratio is what CoAP's transport costs or saves over HTTP's. Runs alternate.

import { STREAMS } from '@telly/schemas';
import { TELEMETRY_PG } from '@telly/telemetry-pg';
import { alternate } from '../lib/alternate.ts';
import { coapLoad } from '../lib/coap-load.ts';
import { probeJetStream } from '../lib/jetstream.ts';
import { TreeMonitor } from '../lib/process-tree.ts';
import { ratioVerdict } from '../lib/ratio.ts';
import type { DeviceCredentials } from '../lib/simulator.ts';
import { median } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';
import { measureSide, pack, type RunResult, run as runHttp, type Side, summarize } from './http-ingest.ts';

/** CoAP is not expected to beat HTTP on loopback (the same ingest path), only not to fall far behind. */
const TARGET_RATIO = 0.8;

const SIZES: Record<
  Size,
  { things: number; clients: number; warmupS: number; measureS: number; runs: number }
> = {
  smoke: { things: 5, clients: 5, warmupS: 1, measureS: 2, runs: 1 },
  short: { things: 200, clients: 50, warmupS: 3, measureS: 10, runs: 3 },
  full: { things: 200, clients: 50, warmupS: 5, measureS: 30, runs: 5 },
};

/** Measures one coapLoad run against Telly's CoAP bridge. */
function runCoap(
  target: { port: number; monitor(): TreeMonitor; settle(): Promise<void> },
  devices: readonly DeviceCredentials[],
  size: { clients: number; warmupS: number; measureS: number },
  signal: AbortSignal,
): Promise<RunResult> {
  const coapSide: Side = async (body, seconds, onAnswer) => {
    const result = await coapLoad({
      port: target.port,
      devices,
      endpoints: size.clients,
      seconds,
      body,
      signal,
      ...(onAnswer ? { onAnswer } : {}),
    });
    // an error is a request unanswered after every retransmission
    return {
      accepted: result.accepted,
      refused: result.refused,
      errors: result.timeouts,
      seconds: result.seconds,
    };
  };
  return measureSide(target, coapSide, size);
}

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const runs = ctx.runs ?? size.runs;
  const measureS = ctx.durationMs ? ctx.durationMs / 1000 : size.measureS;
  ctx.log('starting Telly (its CoAP and HTTP bridges)');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  await using js = await probeJetStream(telly.nats);
  ctx.log(`provisioning ${size.things} things`);
  const { devices } = await provisionDevices(telly, size.things, ctx.signal);
  const storedBefore = await js.stored(STREAMS.MESSAGES.name);
  const monitor = () => new TreeMonitor(telly.roots, telly.names);
  const settle = () => js.caughtUp(STREAMS.MESSAGES.name, TELEMETRY_PG);

  const results = await alternate(
    runs,
    () =>
      runCoap(
        { port: telly.platform.ports.coap, monitor, settle },
        devices,
        { ...size, measureS },
        ctx.signal,
      ),
    () =>
      runHttp(
        { url: `http://127.0.0.1:${telly.platform.ports.http}`, monitor, settle },
        devices,
        { connections: size.clients, warmupS: size.warmupS, measureS },
        ctx.signal,
      ),
    ctx.log,
  );
  const coapRate = median(results.telly.map((r) => r.perSecond));
  const httpRate = median(results.reference.map((r) => r.perSecond));
  // an answer as stored means stored: MESSAGES grew by every 2.04 and every 202
  const stored = (await js.stored(STREAMS.MESSAGES.name)) - storedBefore;
  const accepted = [...results.telly, ...results.reference].reduce((sum, r) => sum + r.acceptedTotal, 0);
  return {
    ...ratioVerdict(
      { label: 'CoAP 2.04 answers', unit: 'msg/s', referenceLabel: 'HTTP 202 answers' },
      coapRate,
      httpRate,
      TARGET_RATIO,
    ),
    details: {
      settings: {
        things: size.things,
        clients: size.clients,
        recordsPerPack: (JSON.parse(pack(Date.now())) as unknown[]).length,
        packBytes: Buffer.byteLength(pack(Date.now())),
        warmupSeconds: size.warmupS,
        measureSeconds: measureS,
        runs,
      },
      accepted,
      stored,
      missing: Math.max(0, accepted - stored),
      telly: summarize(results.telly),
      reference: summarize(results.reference),
    },
    versions: { postgres: telly.versions.postgres, natsServer: telly.versions.natsServer },
  };
}

export const coapIngest: Scenario = {
  name: 'coap-ingest',
  title: 'CoAP CON ingest, 10-record packs',
  target: `≥ ${TARGET_RATIO}× the HTTP bridge's rate`,
  reference: "Telly's HTTP bridge, same run, same packs, as many clients",
  run: runScenario,
};
