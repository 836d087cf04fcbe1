import * as ort from 'onnxruntime-node';
import { InferenceError } from '../errors.ts';
import { createSession, type ModelInfo, readModelInfo } from './model-info.ts';
import { type PredictResult, postprocess } from './postprocess.ts';
import { sampleSize } from './tensor-info.ts';

/**
 * A model loaded into onnxruntime with what Telly read from it: runs batches of samples (one
 * `session.run` for the whole batch when the first dimension is dynamic) and postprocesses them.
 */
export class LoadedModel {
  readonly info: ModelInfo;
  readonly #session: ort.InferenceSession;
  readonly #batched: boolean;

  private constructor(session: ort.InferenceSession, info: ModelInfo) {
    this.#session = session;
    this.info = info;
    this.#batched = (info.inputs[0]?.shape[0] ?? 1) === -1;
  }

  /**
   * Loads a file and runs a smoke input (zeros) through it: a model that loads but cannot run
   * is INVALID_MODEL here, before anything depends on it.
   */
  static async load(
    bytes: Uint8Array,
    overrides?: Parameters<typeof readModelInfo>[2],
  ): Promise<LoadedModel> {
    const session = await createSession(bytes);
    const model = new LoadedModel(session, readModelInfo(bytes, session, overrides));
    try {
      await model.run([new Float32Array(model.sampleSize)]);
    } catch (err) {
      await session.release();
      throw new InferenceError(
        'INVALID_MODEL',
        `the model fails on a smoke input: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return model;
  }

  /** Values of one sample. */
  get sampleSize(): number {
    const input = this.info.inputs[0];
    return input ? sampleSize(input) : 0;
  }

  /** Raw outputs of a batch, by output name, per sample. */
  async runRaw(samples: readonly Float32Array[]): Promise<Record<string, number[]>[]> {
    const input = this.info.inputs[0];
    if (!input) throw new InferenceError('INVALID_MODEL', 'the model has no input');
    if (!this.#batched) {
      const out: Record<string, number[]>[] = [];
      for (const sample of samples) out.push(...(await this.#run(input.name, input.shape, [sample])));
      return out;
    }
    return this.#run(input.name, input.shape, samples);
  }

  /** Results of a batch of samples, in order. */
  async run(samples: readonly Float32Array[]): Promise<PredictResult[]> {
    const raw = await this.runRaw(samples);
    return raw.map((outputs) => postprocess(this.info.postprocessing, this.info.labels, outputs));
  }

  async #run(
    name: string,
    shape: number[],
    samples: readonly Float32Array[],
  ): Promise<Record<string, number[]>[]> {
    const size = this.sampleSize;
    for (const s of samples) {
      if (s.length !== size) {
        throw new InferenceError(
          'INVALID_INPUT',
          `a sample has ${s.length} values; input ${name} takes ${size}`,
        );
      }
    }
    // one sample is the tensor's data as it is; a batch is copied into one buffer
    const [first] = samples;
    const data = samples.length === 1 && first ? first : new Float32Array(size * samples.length);
    if (data !== first) {
      for (const [i, s] of samples.entries()) data.set(s, i * size);
    }
    const dims = [samples.length, ...shape.slice(1).map((d) => Math.max(d, 1))];
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.#session.run({ [name]: new ort.Tensor('float32', data, dims) });
    } catch (err) {
      throw new InferenceError('MODEL_FAILED', `the model failed: ${(err as Error).message.split('\n')[0]}`, {
        cause: err,
      });
    }
    const perSample: Record<string, number[]>[] = samples.map(() => ({}));
    for (const [output, tensor] of Object.entries(results)) {
      const values = tensor.data;
      const each = values.length / samples.length;
      // a view of each sample's part (no copy of the whole output first), as numbers
      const part = (from: number) =>
        ArrayBuffer.isView(values)
          ? (values as Float32Array).subarray(from, from + each)
          : (values as readonly string[]).slice(from, from + each);
      perSample.forEach((out, i) => {
        out[output] = Array.from(part(i * each), Number);
      });
    }
    return perSample;
  }

  /** Raw `session.run` on an input tensor (the benchmark's reference). */
  rawSession(): ort.InferenceSession {
    return this.#session;
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}
