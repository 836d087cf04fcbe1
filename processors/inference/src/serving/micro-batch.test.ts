import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInferenceError } from '../errors.ts';
import { LoadedModel } from '../onnx/loaded-model.ts';
import { deepMlp } from '../testing/deep-mlp.ts';
import { MicroBatcher } from './micro-batch.ts';

/** Deterministic samples of `size` values, each different. */
function samples(count: number, size: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) =>
    Float32Array.from({ length: size }, (_, j) => ((i * 31 + j) % 17) / 17),
  );
}

describe('MicroBatcher', async () => {
  const model = await LoadedModel.load(deepMlp({ inputs: 8, width: 16, layers: 2, classes: 4 }));

  it('answers concurrent requests in fewer runs, each its own results, as one run alone would', async () => {
    const batcher = new MicroBatcher(model, { maxBatch: 32 });
    const inputs = samples(12, 8);
    const alone = await Promise.all(inputs.map((s) => model.run([s])));
    const batched = await Promise.all(inputs.map((s) => batcher.run([s])));
    assert.equal(batcher.stats.requests, 12);
    assert.ok(batcher.stats.runs < 12, `${batcher.stats.runs} runs for 12 requests`);
    for (const [i, results] of batched.entries()) {
      assert.equal(results.length, 1);
      const want = alone[i]?.[0]?.outputs.probabilities ?? [];
      const got = results[0]?.outputs.probabilities ?? [];
      assert.equal(got.length, 4);
      for (const [k, v] of got.entries()) assert.ok(Math.abs(v - (want[k] ?? 0)) < 1e-6, `request ${i}`);
    }
  });

  it('keeps a request whole and in order, and never runs more than maxBatch together', async () => {
    const batcher = new MicroBatcher(model, { maxBatch: 4 });
    const requests = [samples(3, 8), samples(2, 8), samples(6, 8), samples(1, 8)];
    const answers = await Promise.all(requests.map((r) => batcher.run(r)));
    assert.deepEqual(
      answers.map((a) => a.length),
      [3, 2, 6, 1],
    );
    const alone = await model.run(requests[2] ?? []);
    assert.deepEqual(
      answers[2]?.map((r) => r.predictions),
      alone.map((r) => r.predictions),
    );
    assert.ok(batcher.stats.runs >= 3, `${batcher.stats.runs} runs: 3 + 2 and 6 cannot share a run of 4`);
  });

  it('fails only the request whose input is wrong when they shared a run', async () => {
    const batcher = new MicroBatcher(model);
    const [good, bad] = await Promise.allSettled([
      batcher.run(samples(1, 8)),
      batcher.run([new Float32Array(5)]),
    ]);
    assert.equal(good.status, 'fulfilled');
    assert.equal(bad.status, 'rejected');
    assert.ok(isInferenceError(bad.reason, 'INVALID_INPUT'), String(bad.reason));
  });
});
