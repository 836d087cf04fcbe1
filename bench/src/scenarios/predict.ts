// On-demand predictions: a model deployed on a running Telly, asked through the TF-Serving-
// compatible REST route (`POST /v1/models/<name>:predict`, one instance per request, CLIENTS
// requests in flight), against the reference: raw `session.run` of onnxruntime-node on the same
// model file and the same input, one input at a time in a loop, in this process — what a user's
// own Node program does. Alternated (lib/alternate.ts). Two models, in the same run:
// - deep: a generated compute-bound MLP (testing/deep-mlp.ts, ~1 ms a run): the ratio is what
//   serving costs where inference matters (the headline);
// - digits: the committed digit classifier (784-64-10, ~0.03 ms a run): almost all of a request
//   is HTTP, auth and JSON, so its ratio is low and says what a request costs.
// The requests come from autocannon (keep-alive connections, as http-ingest's), the lightest
// client at hand: its CPU is on the same two cores and counts against Telly.
import { LoadedModel, OrtTensor } from '@telly/inference';
import { deepMlp, referenceModel } from '@telly/inference/testing';
import autocannon from 'autocannon';
import { alternate } from '../lib/alternate.ts';
import { uploadModel } from '../lib/models.ts';
import { ratioVerdict } from '../lib/ratio.ts';
import { logIn } from '../lib/simulator.ts';
import { median, round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_RATIO = 0.8;
/** Requests in flight at once against Telly; the reference runs one input at a time. */
const CLIENTS = 16;

const SIZES: Record<Size, { runs: number; ms: number }> = {
  smoke: { runs: 1, ms: 1_000 },
  short: { runs: 3, ms: 5_000 },
  full: { runs: 5, ms: 15_000 },
};

interface Case {
  /** The model's name in Telly. */
  name: string;
  description: string;
  file: Uint8Array;
}

const CASES: Case[] = [
  {
    name: 'deep',
    description: 'deep-mlp.ts: 64-352×160-10, shared hidden weights, ~20 M multiply-adds',
    file: deepMlp(),
  },
  { name: 'digits', description: 'digits.onnx: MLP 784-64-10', file: referenceModel('digits') },
];

/** One deterministic input row (pseudo-random values in [0, 1); the models' cost does not depend on them). */
function rowOf(size: number): number[] {
  let seed = 16;
  return Array.from({ length: size }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  });
}

/** Predictions per second of `clients` keep-alive connections POSTing `body` for `ms`; any non-2xx fails. */
async function restRate(
  url: string,
  headers: Record<string, string>,
  body: string,
  ms: number,
  clients: number,
): Promise<number> {
  const result = await autocannon({
    url,
    connections: clients,
    pipelining: 1,
    duration: ms / 1000,
    method: 'POST',
    headers,
    body,
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`:predict failed ${failed} of ${result.requests.total} requests`);
  return result['2xx'] / result.duration;
}

/** Calls per second of `clients` loops of `once` for `ms` (one prediction a call). */
async function rate(ms: number, clients: number, once: () => Promise<void>): Promise<number> {
  const deadline = performance.now() + ms;
  let calls = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        await once();
        calls++;
      }
    }),
  );
  return calls / ((performance.now() - started) / 1000);
}

const argmax = (v: ArrayLike<number>) => Array.prototype.indexOf.call(v, Math.max(...Array.from(v)));

async function measureCase(
  c: Case,
  api: string,
  token: string,
  size: { runs: number; ms: number },
  log: (m: string) => void,
) {
  await uploadModel(api, token, c.file, c.name);
  // the reference: the same file, straight into onnxruntime, loaded as Telly loads it (one
  // intra-op thread); one input of the same row per run
  const reference = await LoadedModel.load(c.file);
  const input = reference.info.inputs[0];
  if (!input) throw new Error(`${c.name} has no input`);
  const row = rowOf(reference.sampleSize);
  const session = reference.rawSession();
  const tensor = new OrtTensor('float32', Float32Array.from(row), [1, row.length]);
  const output = reference.info.postprocessing.output;
  const viaSession = async () => {
    await session.run({ [input.name]: tensor });
  };
  const url = `${api}/v1/models/${c.name}:predict`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ instances: [row] });
  const viaRest = async () => {
    const res = await fetch(url, { method: 'POST', headers, body });
    const answer = (await res.json()) as { predictions?: unknown[] };
    if (answer.predictions?.length !== 1) throw new Error(`:predict answered ${res.status}`);
  };
  // both answer the same: Telly's output is the raw session's
  const raw = (await session.run({ [input.name]: tensor }))[output]?.data as Float32Array;
  const rest = (await (await fetch(url, { method: 'POST', headers, body })).json()) as {
    predictions: (number[] | Record<string, number[]>)[];
  };
  // the output tensor, or the outputs by name when the model has several
  const first = rest.predictions[0] ?? [];
  const got = Array.isArray(first) ? first : (first[output] ?? []);
  if (got.length !== raw.length || got.some((v, i) => Math.abs(v - (raw[i] ?? 0)) > 1e-5))
    throw new Error(
      `${c.name}: REST answered ${got.slice(0, 3)}… where the session answers ${raw.slice(0, 3)}…`,
    );
  for (let i = 0; i < 20; i++) await Promise.all([viaRest(), viaSession()]); // warm-up
  const result = await alternate(
    size.runs,
    () => restRate(url, headers, body, size.ms, CLIENTS),
    () => rate(size.ms, 1, viaSession),
    (m) => log(`${c.name}: ${m}`),
  );
  await reference.release();
  const telly = median(result.telly);
  const ref = median(result.reference);
  return {
    model: c.description,
    class: argmax(raw),
    tellyPerSecond: round(telly),
    referencePerSecond: round(ref),
    ratio: round(telly / ref),
    tellyRuns: result.telly.map((v) => round(v)),
    referenceRuns: result.reference.map((v) => round(v)),
  };
}

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const runs = ctx.runs ?? size.runs;
  const ms = ctx.durationMs ?? size.ms;
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const account = await provisionDevices(telly, 1, ctx.signal);
  const api = telly.platform.apiUrl;
  const token = await logIn(api, account.email, account.password, ctx.signal);
  const cases: Record<string, Awaited<ReturnType<typeof measureCase>>> = {};
  for (const c of CASES) cases[c.name] = await measureCase(c, api, token, { runs, ms }, ctx.log);
  const deep = cases.deep;
  const digits = cases.digits;
  if (!deep || !digits) throw new Error('a case did not run');
  const head = ratioVerdict(
    {
      label: `predictions/s via :predict (deep MLP, ${CLIENTS} clients, 1 instance a request)`,
      unit: 'predictions/s',
      referenceLabel: 'predictions/s via session.run (deep MLP, 1 input at a time, sequential)',
    },
    deep.tellyPerSecond,
    deep.referencePerSecond,
    TARGET_RATIO,
  );
  return {
    ...head,
    verdict: `${head.verdict} (deep MLP); tiny digits model ${round(digits.ratio, 2)}× (${digits.tellyPerSecond} vs ${digits.referencePerSecond}/s)`,
    details: {
      settings: {
        clients: CLIENTS,
        instancesPerRequest: 1,
        reference: 'session.run, one input [1, n] at a time, sequential, one intra-op thread',
        runs,
        msPerRun: ms,
      },
      cases,
    },
    versions: telly.versions,
  };
}

export const predict: Scenario = {
  name: 'predict',
  title: 'on-demand predict throughput (TF-Serving REST route, a compute-bound and a tiny model)',
  target: `≥ ${TARGET_RATIO}× raw session.run`,
  reference: 'onnxruntime-node session.run on the same model and input, one at a time, in process',
  run: runScenario,
};
