// Kafka both ways, on one real broker (@telly/harness) and a real `telly up` with its Kafka
// bridge. In: a topic filled with SenML packs is read by a Kafka source into the log (every record
// through the ingest path, JetStream-acked, offsets committed after), against kcat's raw consume
// of the same topic. Out: a sink streams those messages from the log to a topic (acked to
// JetStream only after Kafka acked), against kcat's produce of the same records. Same broker,
// same machine, same run.

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { KafkaBroker } from '@telly/harness';
import { STREAMS } from '@telly/schemas';
import { probeJetStream } from '../lib/jetstream.ts';
import { TreeMonitor } from '../lib/process-tree.ts';
import { ratioVerdict } from '../lib/ratio.ts';
import { SensorBoard } from '../lib/simulator.ts';
import { round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const run = promisify(execFile);

/** Telly's durable ingest is not kcat's raw read: the budget asks for a fraction of it. */
const TARGET_IN = 0.02;
const TARGET_OUT = 0.05;
const PARTITIONS = 4;

const SIZES: Record<Size, { things: number; records: number }> = {
  smoke: { things: 4, records: 2_000 },
  short: { things: 50, records: 50_000 },
  full: { things: 200, records: 200_000 },
};

/** `kcat -P` of `lines` (`key<TAB>value`): resolves with the seconds it took, flushed. */
async function produce(bootstrap: string, topic: string, lines: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn('kcat', ['-P', '-b', bootstrap, '-t', topic, '-K', '\t', '-X', 'linger.ms=5'], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited ${code}`))));
    child.once('error', reject);
  });
  child.stdin.end(`${lines.join('\n')}\n`);
  await done;
  return (performance.now() - started) / 1000;
}

/** `kcat -C -e` of the whole topic to nowhere: the seconds it took and the records it read. */
async function consumeAll(bootstrap: string, topic: string): Promise<{ seconds: number; records: number }> {
  const started = performance.now();
  const { stdout } = await run(
    'kcat',
    ['-C', '-b', bootstrap, '-t', topic, '-e', '-q', '-o', 'beginning', '-f', '.'],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { seconds: (performance.now() - started) / 1000, records: stdout.length };
}

/** Records in a topic: the sum of its partitions' end offsets (`kcat -Q`, -1 = latest). */
async function endOffsets(bootstrap: string, topic: string): Promise<number> {
  const args = ['-Q', '-b', bootstrap];
  for (let p = 0; p < PARTITIONS; p++) args.push('-t', `${topic}:${p}:-1`);
  const { stdout } = await run('kcat', args).catch(() => ({ stdout: '' }));
  return [...stdout.matchAll(/offset (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function gql(api: string, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: unknown };
  if (body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function until(what: string, probe: () => Promise<boolean>, signal: AbortSignal, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    signal.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  ctx.log('starting a Kafka broker');
  const broker = await KafkaBroker.start({ partitions: PARTITIONS, heapMb: 1024 });
  try {
    ctx.log('starting Telly with its Kafka bridge');
    await using telly = await startTelly({
      profileDir: ctx.profileDir,
      natsSyncInterval: ctx.natsSyncInterval,
      signal: ctx.signal,
      env: {
        TELLY_KAFKA_BROKERS: broker.bootstrap,
        // the fleet is a few things sending much: the per-thing limit is not what is measured
        TELLY_RATE_PER_SECOND: '1000000',
        TELLY_RATE_BURST: '1000000',
      },
    });
    await using js = await probeJetStream(telly.nats);
    ctx.log(`provisioning ${size.things} things`);
    const fleet = await provisionDevices(telly, size.things, ctx.signal);
    const api = telly.platform.apiUrl;
    const board = new SensorBoard(10);
    const lines = Array.from({ length: size.records }, (_, i) => {
      const device = fleet.devices[i % fleet.devices.length]!;
      return `${device.thingId}\t${JSON.stringify(board.read(Date.now()))}`;
    });

    // reference out: kcat producing these records (and so filling the source topic)
    ctx.log(`kcat produces ${size.records} records`);
    const produceSeconds = await produce(broker.bootstrap, 'bench-in', lines);
    // reference in: kcat reading them all back
    const consumed = await consumeAll(broker.bootstrap, 'bench-in');
    if (consumed.records !== size.records) {
      throw new Error(`kcat read ${consumed.records} of ${size.records} records`);
    }

    // Telly in: a source on the full topic, until every record is in the log
    const monitor = new TreeMonitor(telly.roots, telly.names);
    const before = await js.stored(STREAMS.MESSAGES.name);
    monitor.start();
    const inStarted = performance.now();
    await gql(
      api,
      fleet.token,
      'mutation($input: CreateKafkaSourceInput!) { createKafkaSource(input: $input) { id } }',
      { input: { topic: 'bench-in', format: 'SENML_JSON', thingFrom: 'KEY', channelId: fleet.channelId } },
    );
    await until(
      'every record in the log',
      async () => (await js.stored(STREAMS.MESSAGES.name)) - before >= size.records,
      ctx.signal,
    );
    const inSeconds = (performance.now() - inStarted) / 1000;
    const inCpu = monitor.stop();

    // Telly out: a sink of the tenant's messages (those records), until all are in Kafka
    const outMonitor = new TreeMonitor(telly.roots, telly.names);
    outMonitor.start();
    const outStarted = performance.now();
    await gql(
      api,
      fleet.token,
      'mutation($input: CreateKafkaSinkInput!) { createKafkaSink(input: $input) { id } }',
      { input: { messagesTopic: 'bench-out' } },
    );
    await until(
      'every message in the sink topic',
      async () => (await endOffsets(broker.bootstrap, 'bench-out')) >= size.records,
      ctx.signal,
    );
    const outSeconds = (performance.now() - outStarted) / 1000;
    const outCpu = outMonitor.stop();
    const outRecords = await endOffsets(broker.bootstrap, 'bench-out');

    const inRate = size.records / inSeconds;
    const kcatConsumeRate = size.records / consumed.seconds;
    const outRate = size.records / outSeconds;
    const kcatProduceRate = size.records / produceSeconds;
    const result = ratioVerdict(
      { label: 'Kafka → Telly (durable ingest)', unit: 'msg/s', referenceLabel: 'kcat raw consume' },
      inRate,
      kcatConsumeRate,
      TARGET_IN,
    );
    const outRatio = outRate / kcatProduceRate;
    return {
      ...result,
      details: {
        records: size.records,
        recordBytes: Math.round(lines.reduce((n, l) => n + l.length, 0) / lines.length),
        things: size.things,
        partitions: PARTITIONS,
        in: { tellyPerSecond: round(inRate), kcatConsumePerSecond: round(kcatConsumeRate), cpu: inCpu },
        out: {
          tellyPerSecond: round(outRate),
          kcatProducePerSecond: round(kcatProduceRate),
          ratio: round(outRatio),
          target: `${TARGET_OUT}×`,
          met: outRatio >= TARGET_OUT,
          recordsInTopic: outRecords,
          cpu: outCpu,
        },
      },
      met: result.met && outRatio >= TARGET_OUT,
    };
  } finally {
    await broker.stop();
  }
}

export const kafka: Scenario = {
  name: 'kafka',
  title: 'Kafka bridge: a topic into the log, and the log out to a topic',
  target: `in ≥ ${TARGET_IN}× kcat's raw consume, out ≥ ${TARGET_OUT}× kcat's produce`,
  reference: 'kcat consuming and producing the same records on the same broker, in the same run',
  run: runScenario,
};
