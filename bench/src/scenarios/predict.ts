// On-demand predictions: the digit classifier deployed on a running Telly, asked through the
// TF-Serving-compatible REST route (`POST /v1/models/digits:predict`, a batch of tensors per
// request, a few clients at once), against the reference: raw `session.run` of onnxruntime-node
// on the same model file and batch, in this process. Alternated (lib/alternate.ts).
import { LoadedModel, OrtTensor } from '@telly/inference';
import { referenceModel } from '@telly/inference/testing';
import { alternate } from '../lib/alternate.ts';
import { uploadReferenceModel } from '../lib/models.ts';
import { ratioVerdict } from '../lib/ratio.ts';
import { logIn } from '../lib/simulator.ts';
import { median, round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_RATIO = 0.8;
/** Instances per request and per `session.run`. */
const BATCH = 8;
/** Requests in flight at once. */
const CLIENTS = 4;

const SIZES: Record<Size, { runs: number; ms: number }> = {
  smoke: { runs: 1, ms: 1_000 },
  short: { runs: 3, ms: 5_000 },
  full: { runs: 5, ms: 15_000 },
};

/** A held-out-looking input: deterministic pseudo-random pixels (the model's cost does not depend on them). */
function batchOf(size: number): number[][] {
  let seed = 16;
  return Array.from({ length: size }, () =>
    Array.from({ length: 784 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    }),
  );
}

/** Predictions per second from `clients` loops of `once` for `ms`; each call predicts BATCH instances. */
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
  return (calls * BATCH) / ((performance.now() - started) / 1000);
}

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const account = await provisionDevices(telly, 1, ctx.signal);
  const api = telly.platform.apiUrl;
  const token = await logIn(api, account.email, account.password, ctx.signal);
  await uploadReferenceModel(api, token, 'digits', 'digits');
  const instances = batchOf(BATCH);
  const body = JSON.stringify({ instances });
  const url = `${api}/v1/models/digits:predict`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const viaRest = async () => {
    const res = await fetch(url, { method: 'POST', headers, body });
    const answer = (await res.json()) as { predictions?: unknown[] };
    if (answer.predictions?.length !== BATCH) throw new Error(`:predict answered ${res.status}`);
  };
  // the reference: the same file, the same batch, straight into onnxruntime
  // (loaded as Telly loads it: one intra-op thread, the session Telly's API runs too)
  const reference = await LoadedModel.load(referenceModel('digits'));
  const session = reference.rawSession();
  const tensor = new OrtTensor('float32', Float32Array.from(instances.flat()), [BATCH, 784]);
  const viaSession = async () => {
    await session.run({ image: tensor });
  };
  // both answer the same: Telly's top class is the raw output's argmax
  const expected = (await reference.run(instances.map((i) => Float32Array.from(i)))).map(
    (r) => r.predictions[0]?.label,
  );
  const rest = (await (await fetch(url, { method: 'POST', headers, body })).json()) as {
    predictions: { probabilities: number[] }[];
  };
  const got = rest.predictions.map((p) => String(p.probabilities.indexOf(Math.max(...p.probabilities))));
  if (got.join() !== expected.join())
    throw new Error(`REST answered ${got} where the session answers ${expected}`);
  for (let i = 0; i < 20; i++) await Promise.all([viaRest(), viaSession()]); // warm-up
  const runs = ctx.runs ?? size.runs;
  const ms = ctx.durationMs ?? size.ms;
  const result = await alternate(
    runs,
    () => rate(ms, CLIENTS, viaRest),
    () => rate(ms, CLIENTS, viaSession),
    ctx.log,
  );
  await reference.release();
  const t = median(result.telly);
  const r = median(result.reference);
  return {
    ...ratioVerdict(
      {
        label: 'predictions/s via :predict',
        unit: 'predictions/s',
        referenceLabel: 'predictions/s via session.run',
      },
      t,
      r,
      TARGET_RATIO,
    ),
    details: {
      settings: { batch: BATCH, clients: CLIENTS, runs, msPerRun: ms, model: 'digits.onnx (MLP 784-64-10)' },
      tellyPerSecond: result.telly.map((v) => round(v)),
      referencePerSecond: result.reference.map((v) => round(v)),
    },
    versions: telly.versions,
  };
}

export const predict: Scenario = {
  name: 'predict',
  title: 'on-demand predict throughput (TF-Serving REST route, digit classifier)',
  target: `≥ ${TARGET_RATIO}× raw session.run`,
  reference: 'onnxruntime-node session.run on the same model and batch, in process',
  run: runScenario,
};
