import type { ModelCatalog } from '../catalog/model-catalog.ts';
import type { ModelState, ModelVersion } from '../catalog/model-state.ts';
import { InferenceError } from '../errors.ts';
import { type PredictInput, toSample } from '../input/predict-input.ts';
import type { LoadedModel } from '../onnx/loaded-model.ts';
import type { PredictResult } from '../onnx/postprocess.ts';
import { MicroBatcher } from './micro-batch.ts';
import type { ModelPool } from './model-pool.ts';

/** How long a prediction may take. @default 10 s */
export const DEFAULT_PREDICT_TIMEOUT_MS = 10_000;
/** Most samples one request may carry. @default 256 */
export const MAX_PREDICT_SAMPLES = 256;

export interface Prediction {
  model: ModelState;
  version: ModelVersion;
  results: PredictResult[];
}

/**
 * On-demand predictions: a tenant's model by id or name, its deployed (or a given) version.
 * Concurrent predictions of one loaded version share its `session.run` (MicroBatcher).
 */
export class Predictor {
  readonly #catalog: ModelCatalog;
  readonly #pool: ModelPool;
  /** By loaded session: a version the pool releases takes its batcher with it. */
  readonly #batchers = new WeakMap<LoadedModel, MicroBatcher>();

  constructor(catalog: ModelCatalog, pool: ModelPool) {
    this.#catalog = catalog;
    this.#pool = pool;
  }

  #batcher(loaded: LoadedModel): MicroBatcher {
    let batcher = this.#batchers.get(loaded);
    if (!batcher) {
      batcher = new MicroBatcher(loaded);
      this.#batchers.set(loaded, batcher);
    }
    return batcher;
  }

  /** The model and the version that answers: `version`, or the deployed one (NOT_DEPLOYED). */
  resolve(
    tenantId: string,
    model: { id?: string; name?: string },
    version?: number,
  ): { model: ModelState; version: ModelVersion } {
    const state =
      model.id !== undefined
        ? this.#catalog.get(tenantId, model.id)
        : this.#catalog.byName(tenantId, model.name ?? '');
    if (!state) throw new InferenceError('NOT_FOUND', `model ${model.id ?? model.name} not found`);
    const wanted = version ?? state.deployedVersion;
    if (wanted === undefined)
      throw new InferenceError('NOT_DEPLOYED', `model ${state.name} serves no version: deploy one`);
    const v = state.versions.find((x) => x.version === wanted);
    if (!v) throw new InferenceError('NOT_FOUND', `model ${state.name} has no version ${wanted}`);
    return { model: state, version: v };
  }

  async predict(
    tenantId: string,
    model: { id?: string; name?: string },
    inputs: readonly PredictInput[],
    options: {
      version?: number | undefined;
      timeoutMs?: number | undefined;
      signal?: AbortSignal | undefined;
    } = {},
  ): Promise<Prediction> {
    if (inputs.length < 1 || inputs.length > MAX_PREDICT_SAMPLES) {
      throw new InferenceError(
        'INVALID_INPUT',
        `give 1 to ${MAX_PREDICT_SAMPLES} inputs (got ${inputs.length})`,
      );
    }
    const { model: state, version } = this.resolve(tenantId, model, options.version);
    const timeoutMs = options.timeoutMs ?? DEFAULT_PREDICT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new InferenceError('TIMEOUT', `the prediction took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const work = (async () => {
      const loaded = await this.#pool.get(tenantId, version);
      const samples = await Promise.all(
        inputs.map((input, i) =>
          toSample(loaded.info, input).catch((err: unknown) => {
            if (inputs.length > 1 && err instanceof InferenceError) {
              throw new InferenceError(err.code, `instance ${i}: ${err.message}`, { cause: err });
            }
            throw err;
          }),
        ),
      );
      options.signal?.throwIfAborted();
      return this.#batcher(loaded).run(samples);
    })();
    try {
      return { model: state, version, results: await Promise.race([work, timeout]) };
    } finally {
      clearTimeout(timer);
    }
  }
}
