import type { ModelVersion } from '../catalog/model-state.ts';
import { LoadedModel } from '../onnx/loaded-model.ts';
import { type ModelFiles, modelObjectName } from './model-files.ts';

/** Models kept loaded at once; the least recently used is released past it. @default 16 */
export const DEFAULT_POOL_MODELS = 16;

/**
 * Loaded sessions by file hash: a version is loaded once (concurrent callers share the load) and
 * kept until it is the least recently used of more than `max`.
 */
export class ModelPool {
  readonly #files: ModelFiles;
  readonly #max: number;
  readonly #loaded = new Map<string, Promise<LoadedModel>>();

  constructor(files: ModelFiles, max = DEFAULT_POOL_MODELS) {
    this.#files = files;
    this.#max = max;
  }

  get(tenantId: string, version: ModelVersion): Promise<LoadedModel> {
    const key = version.sha256;
    let model = this.#loaded.get(key);
    if (model) {
      this.#loaded.delete(key);
      this.#loaded.set(key, model); // most recently used last
      return model;
    }
    model = this.#files
      .get(modelObjectName(tenantId, version.modelId, version.sha256), version.sha256)
      .then((bytes) =>
        LoadedModel.load(bytes, {
          labels: version.labels,
          preprocessing: version.preprocessing,
          postprocessing: version.postprocessing,
          description: version.description,
        }),
      );
    this.#loaded.set(key, model);
    model.catch(() => this.#loaded.delete(key));
    while (this.#loaded.size > this.#max) {
      const [oldest, loading] = this.#loaded.entries().next().value as [string, Promise<LoadedModel>];
      this.#loaded.delete(oldest);
      loading.then((m) => m.release()).catch(() => undefined);
    }
    return model;
  }

  async close(): Promise<void> {
    const all = [...this.#loaded.values()];
    this.#loaded.clear();
    await Promise.all(all.map((m) => m.then((x) => x.release()).catch(() => undefined)));
  }
}
