import type { Logger } from '@telly/runtime';
import type { ModelCatalog } from '../catalog/model-catalog.ts';
import { type ModelState, type ModelVersion, servingVersion } from '../catalog/model-state.ts';
import type { LoadedModel } from '../onnx/loaded-model.ts';
import type { ModelPool } from '../serving/model-pool.ts';

export interface Serving {
  model: ModelState;
  version: ModelVersion;
  loaded: LoadedModel;
}

/**
 * The loaded version of every deployed model, following the catalog: a newly deployed version
 * replaces the serving one only once it loaded and passed its smoke input, so an update loses
 * no prediction; an undeployed (or deleted) model stops at once.
 */
export class ServingModels {
  readonly #pool: ModelPool;
  readonly #logger: Logger;
  readonly #serving = new Map<string, Serving>();
  /** The version each model is loading, so a superseded load does not swap in late. */
  readonly #wanted = new Map<string, string>();
  readonly #loads = new Set<Promise<void>>();
  /** Each model's latest state: a load that ends takes the bindings made meanwhile. */
  readonly #latest = new Map<string, ModelState>();
  /** Called whenever what serves changes (a {@link serves} waiting). */
  readonly #changed = new Set<() => void>();

  constructor(catalog: ModelCatalog, pool: ModelPool, logger: Logger) {
    this.#pool = pool;
    this.#logger = logger;
    catalog.onChange((model) => this.#update(model));
    for (const model of catalog.deployed()) this.#update(model);
  }

  /** The version serving a model now, if any. */
  get(modelId: string): Serving | undefined {
    return this.#serving.get(modelId);
  }

  /**
   * The model once `version` of it serves here (this process's catalog may lag the API's), or
   * undefined when it does not within `timeoutMs`.
   */
  serves(modelId: string, version: number, timeoutMs: number): Promise<Serving | undefined> {
    const now = () => {
      const s = this.#serving.get(modelId);
      return s?.version.version === version ? s : undefined;
    };
    const ready = now();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const done = (s: Serving | undefined) => {
        clearTimeout(timer);
        this.#changed.delete(check);
        resolve(s);
      };
      const check = () => {
        const s = now();
        if (s) done(s);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.#changed.add(check);
    });
  }

  /** Resolves once every load started so far has ended (tests, start-up). */
  async settled(): Promise<void> {
    while (this.#loads.size > 0) await Promise.allSettled([...this.#loads]);
  }

  #update(model: ModelState): void {
    this.#latest.set(model.id, model);
    const version = model.deleted ? undefined : servingVersion(model);
    if (!version) {
      this.#wanted.delete(model.id);
      this.#serving.delete(model.id);
      return;
    }
    const current = this.#serving.get(model.id);
    if (current && current.version.sha256 === version.sha256 && current.version.version === version.version) {
      current.model = model; // bindings may have changed
      this.#notify();
      return;
    }
    const key = `${version.version}:${version.sha256}`;
    if (this.#wanted.get(model.id) === key) return;
    this.#wanted.set(model.id, key);
    const load = this.#pool
      .get(model.tenantId, version)
      .then((loaded) => {
        if (this.#wanted.get(model.id) !== key) return;
        this.#serving.set(model.id, { model: this.#latest.get(model.id) ?? model, version, loaded });
        this.#logger.info({ model: model.name, version: version.version }, 'model serves');
        this.#notify();
      })
      .catch((err: unknown) => {
        this.#logger.error(
          { err, model: model.name, version: version.version },
          'deployed model does not load; the previous version keeps serving',
        );
      })
      .finally(() => this.#loads.delete(load));
    this.#loads.add(load);
  }

  #notify(): void {
    for (const check of [...this.#changed]) check();
  }

  /** Serving models of a tenant bound to a channel's message of a thing. */
  boundTo(
    tenantId: string,
    channelId: string,
    thingId: string,
  ): { serving: Serving; measurements: string[] }[] {
    const out: { serving: Serving; measurements: string[] }[] = [];
    for (const serving of this.#serving.values()) {
      if (serving.model.tenantId !== tenantId) continue;
      for (const b of serving.model.bindings) {
        if (b.channelId !== channelId) continue;
        if (b.thingIds.length > 0 && !b.thingIds.includes(thingId)) continue;
        out.push({ serving, measurements: b.measurements });
      }
    }
    return out;
  }
}
