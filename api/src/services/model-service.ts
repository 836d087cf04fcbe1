import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  baselineToOnnx,
  DEFAULT_MAX_MODEL_BYTES,
  HOUR_OF_DAY,
  InferenceError,
  isInferenceError,
  LoadedModel,
  MAX_TRAINING_POINTS,
  type ModelCatalog,
  type ModelCommand,
  ModelFiles,
  ModelPool,
  type ModelState,
  modelDecider,
  modelObjectName,
  type PredictInput,
  type Prediction,
  Predictor,
  type ReplayResult,
  requestReplay,
  sha256Of,
  trainBaseline,
} from '@telly/inference';
import type { RegistryStore } from '@telly/registry';
import { type Job, JobQueue, type JobQueueOptions, type Logger } from '@telly/runtime';
import {
  isEventValidationError,
  MODEL_NAME_PATTERN,
  type ModelPostprocessing,
  type ModelPreprocessing,
  parseDuration,
} from '@telly/schemas';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { ApiError, invalid, isApiError } from '../errors.ts';
import type { RegistryQueries } from './queries.ts';
import type { TelemetryService } from './telemetry-service.ts';
import { validLogRange } from './validate.ts';

export interface UploadInput {
  name: string;
  file: Uint8Array;
  description?: string | null | undefined;
  labels?: readonly string[] | null | undefined;
  preprocessing?: unknown;
  postprocessing?: unknown;
  deploy?: boolean | null | undefined;
}

export interface TrainInput {
  /** The model the baseline becomes a new version of (created if new). */
  name: string;
  thingId: string;
  measurement: string;
  /** The history window. @default the last 7 days */
  from?: Date | null | undefined;
  to?: Date | null | undefined;
  /** Robust z-score above which a reading is an anomaly. @default 3.5 */
  threshold?: number | null | undefined;
  deploy?: boolean | null | undefined;
}

/** The default training window. */
const WEEK_MS = 7 * 24 * 3_600_000;

export interface BindInput {
  modelId: string;
  channelId: string;
  thingIds?: readonly string[] | null | undefined;
  measurements: readonly string[];
}

/**
 * The replay queue: one replay of a tenant runs at a time (it streams the log and runs the
 * model on each match in the inference component), a few wait, one may run 30 minutes.
 */
export const DEFAULT_REPLAY_JOBS = {
  concurrency: 1,
  maxQueued: 10,
  timeoutMs: 1_800_000,
  retentionMs: 3_600_000,
} as const satisfies JobQueueOptions;

/**
 * Where the API instances answer for the jobs each holds (`<prefix>.get|cancel|changed.<tenant>.<job>`):
 * the model queue (predictions, trainings) and the binding replays.
 */
export const MODEL_JOBS_SUBJECT = 'telly.jobs.models';
export const REPLAY_JOBS_SUBJECT = 'telly.jobs.replays';

/** Longest timeout a caller may ask a prediction for. @default 60 s */
export const MAX_PREDICT_TIMEOUT_MS = 60_000;

/** InferenceError → ApiError, once, here at the edge. */
export function toModelApiError(err: unknown): unknown {
  if (isApiError(err)) return err;
  if (isInferenceError(err)) {
    switch (err.code) {
      case 'NOT_FOUND':
        return new ApiError('NOT_FOUND', err.message);
      case 'NOT_DEPLOYED':
        return new ApiError('NOT_ALLOWED', err.message);
      case 'TIMEOUT':
        return new ApiError('UNAVAILABLE', err.message);
      case 'MODEL_FAILED':
        return new ApiError('VALIDATION_FAILED', err.message);
      default:
        return new ApiError('VALIDATION_FAILED', err.message);
    }
  }
  if (isEventValidationError(err)) return new ApiError('VALIDATION_FAILED', err.message);
  return err;
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toModelApiError(err);
  }
}

/**
 * The model registry as the API offers it: uploads (read, smoke-tested, stored by sha256, a new
 * version), deploy / undeploy / rollback / delete, bindings, on-demand predictions and the job
 * queue. Writes go through the REGISTRY stream (`reg.<tenant>.model.<id>`) and return once the
 * catalog shows them.
 */
export class ModelService {
  readonly #store: RegistryStore;
  readonly #catalog: ModelCatalog;
  readonly #files: ModelFiles;
  readonly #pool: ModelPool;
  readonly #predictor: Predictor;
  readonly #queries: RegistryQueries;
  readonly #telemetry: TelemetryService;
  readonly #maxModelBytes: number;
  readonly #nc: NatsConnection;
  readonly jobs: JobQueue;
  /** The tenants' binding replays (kind `replay`, subject the binding's id). */
  readonly replays: JobQueue<ReplayResult>;

  constructor(deps: {
    nc: NatsConnection;
    js: JetStreamClient;
    store: RegistryStore;
    catalog: ModelCatalog;
    queries: RegistryQueries;
    telemetry: TelemetryService;
    logger: Logger;
    jobs?: JobQueueOptions | undefined;
    /** @default DEFAULT_MAX_MODEL_BYTES */
    maxModelBytes?: number | undefined;
    /** The replay queue. @default DEFAULT_REPLAY_JOBS */
    replays?: JobQueueOptions | undefined;
  }) {
    this.#nc = deps.nc;
    this.#store = deps.store;
    this.#catalog = deps.catalog;
    this.#files = new ModelFiles(deps.nc);
    this.#pool = new ModelPool(this.#files);
    this.#predictor = new Predictor(this.#catalog, this.#pool);
    this.#queries = deps.queries;
    this.#telemetry = deps.telemetry;
    this.#maxModelBytes = deps.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
    // any API instance answers for the jobs another holds
    this.jobs = new JobQueue({ ...deps.jobs, peer: { nc: deps.nc, subjectPrefix: MODEL_JOBS_SUBJECT } });
    this.replays = new JobQueue<ReplayResult>({
      ...DEFAULT_REPLAY_JOBS,
      ...deps.replays,
      peer: { nc: deps.nc, subjectPrefix: REPLAY_JOBS_SUBJECT },
    });
  }

  list(p: Principal): ModelState[] {
    return this.#catalog.list(p.tenantId);
  }

  get(p: Principal, id: string): ModelState | undefined {
    return this.#catalog.get(p.tenantId, id);
  }

  byName(p: Principal, name: string): ModelState | undefined {
    return this.#catalog.byName(p.tenantId, name);
  }

  async #handle(p: Principal, modelId: string, command: ModelCommand): Promise<ModelState> {
    const { seq } = await this.#store.handle(
      modelDecider as never,
      { tenantId: p.tenantId, kind: 'model', id: modelId },
      command as never,
      { actor: p.actor },
    );
    await this.#catalog.waitFor(seq);
    const model = this.#catalog.get(p.tenantId, modelId);
    if (!model) throw new InferenceError('NOT_FOUND', `model ${modelId} not found`);
    return model;
  }

  /** Reads, smoke-tests and stores a file as the next version of the model `name` (created if new). */
  upload(p: Principal, input: UploadInput): Promise<ModelState> {
    return mapped(async () => {
      if (!new RegExp(MODEL_NAME_PATTERN).test(input.name)) {
        throw invalid('input.name', 'must be 1 to 64 of A-Z a-z 0-9 _ - (it names telemetry and a subtopic)');
      }
      if (input.file.byteLength === 0) throw invalid('input.file', 'is empty');
      if (input.file.byteLength > this.#maxModelBytes) {
        throw invalid(
          'input.file',
          `is ${input.file.byteLength} bytes; at most ${this.#maxModelBytes} (TELLY_MAX_MODEL_BYTES)`,
        );
      }
      if (input.description && input.description.length > 1024)
        throw invalid('input.description', 'at most 1024 characters');
      const loaded = await LoadedModel.load(input.file, {
        ...(input.description ? { description: input.description } : {}),
        ...(input.labels ? { labels: [...input.labels] } : {}),
        ...(input.preprocessing ? { preprocessing: input.preprocessing as ModelPreprocessing } : {}),
        ...(input.postprocessing ? { postprocessing: input.postprocessing as ModelPostprocessing } : {}),
      }).catch((err: unknown) => {
        throw isInferenceError(err)
          ? new ApiError('VALIDATION_FAILED', `input.file: ${err.message}`, { field: 'input.file' })
          : err;
      });
      await loaded.release();
      let model = await this.#addVersion(p, input.name, input.file, loaded, 'upload');
      if (input.deploy) model = await this.deploy(p, model.id, model.versions.at(-1)?.version);
      return model;
    });
  }

  /** Stores a checked file as the next version of the model `name`. */
  async #addVersion(
    p: Principal,
    name: string,
    file: Uint8Array,
    loaded: LoadedModel,
    source: 'upload' | 'training',
    metrics?: Record<string, number>,
    newId: string = v7(),
  ): Promise<ModelState> {
    const existing = this.#catalog.byName(p.tenantId, name);
    const modelId = existing?.id ?? newId;
    const sha256 = sha256Of(file);
    await this.#files.put(modelObjectName(p.tenantId, modelId, sha256), file);
    const { info } = loaded;
    return this.#handle(p, modelId, {
      type: 'add-version',
      modelId,
      name,
      version: {
        sha256,
        bytes: file.byteLength,
        description: info.description,
        labels: info.labels,
        inputs: info.inputs,
        outputs: info.outputs,
        preprocessing: info.preprocessing,
        postprocessing: info.postprocessing,
        source,
        ...(metrics ? { metrics } : {}),
      },
    });
  }

  /**
   * Trains a per-thing, per-measurement anomaly baseline (robust statistics by hour of day) on
   * the window's history, as a job: the ONNX graph becomes the next version of `name`; the
   * deployed version keeps serving meanwhile.
   */
  async train(p: Principal, input: TrainInput): Promise<Job> {
    // another tenant's thing is not found, as an unknown one is (before any job exists)
    if (!(await this.#queries.thing(p.tenantId, input.thingId))) {
      throw new ApiError('NOT_FOUND', `thing ${input.thingId} not found`);
    }
    if (!new RegExp(MODEL_NAME_PATTERN).test(input.name)) {
      throw invalid('input.name', 'must be 1 to 64 of A-Z a-z 0-9 _ - (it names telemetry and a subtopic)');
    }
    if (input.measurement.length === 0 || input.measurement.length > 256) {
      throw invalid('input.measurement', '1 to 256 characters');
    }
    const to = input.to ?? new Date();
    const from = input.from ?? new Date(to.getTime() - WEEK_MS);
    const read = this.#telemetry.read(p, { thingId: input.thingId, name: input.measurement, from, to });
    const modelId = this.#catalog.byName(p.tenantId, input.name)?.id ?? v7();
    return this.jobs.submit(p.tenantId, 'train', modelId, async (signal, progress) => {
      const readings: { timeMs: number; value: number }[] = [];
      for await (const row of await this.#telemetry.stream(read)) {
        signal.throwIfAborted();
        if (typeof row.value === 'number')
          readings.push({ timeMs: new Date(row.time).getTime(), value: row.value });
        if (readings.length >= MAX_TRAINING_POINTS) break;
      }
      progress(0.5);
      const baseline = trainBaseline(readings);
      const file = baselineToOnnx(baseline, {
        measurement: input.measurement,
        description: `Anomaly baseline of ${input.measurement} by hour of day, trained on ${baseline.metrics.samples} readings from ${from.toISOString()} to ${to.toISOString()}`,
        threshold: input.threshold ?? undefined,
      });
      const loaded = await LoadedModel.load(file);
      await loaded.release();
      progress(0.8);
      signal.throwIfAborted();
      const metrics = { ...baseline.metrics, trainedAt: Date.now() };
      let model = await this.#addVersion(p, input.name, file, loaded, 'training', metrics, modelId);
      if (input.deploy) model = await this.deploy(p, model.id, model.versions.at(-1)?.version);
      return model;
    });
  }

  /**
   * Serves `version` (the newest when omitted) once it loaded here and ran a smoke input; the
   * version serving until then keeps serving.
   */
  deploy(p: Principal, modelId: string, version?: number | null): Promise<ModelState> {
    return mapped(async () => {
      const model = this.#catalog.get(p.tenantId, modelId);
      if (!model) throw new InferenceError('NOT_FOUND', `model ${modelId} not found`);
      const wanted = version ?? model.versions.at(-1)?.version ?? 0;
      const v = model.versions.find((x) => x.version === wanted);
      if (!v) throw new InferenceError('NOT_FOUND', `model ${model.name} has no version ${wanted}`);
      await this.#pool.get(p.tenantId, v); // loads and smoke-tests it
      return this.#handle(p, modelId, { type: 'deploy', version: wanted });
    });
  }

  undeploy(p: Principal, modelId: string): Promise<ModelState> {
    return mapped(() => this.#handle(p, modelId, { type: 'undeploy' }));
  }

  /** Deploys the version that served before the current one. */
  rollback(p: Principal, modelId: string): Promise<ModelState> {
    return mapped(async () => {
      const model = this.#catalog.get(p.tenantId, modelId);
      if (!model) throw new InferenceError('NOT_FOUND', `model ${modelId} not found`);
      const previous = model.previouslyDeployed.at(-1);
      if (previous === undefined)
        throw new ApiError('NOT_ALLOWED', `model ${model.name} has no earlier deployed version`);
      return this.deploy(p, modelId, previous);
    });
  }

  delete(p: Principal, modelId: string): Promise<boolean> {
    return mapped(async () => {
      const model = this.#catalog.get(p.tenantId, modelId);
      if (!model) throw new InferenceError('NOT_FOUND', `model ${modelId} not found`);
      await this.#handle(p, modelId, { type: 'delete' }).catch((err: unknown) => {
        if (isInferenceError(err, 'NOT_FOUND')) return; // the fold of a deleted model is not found: done
        throw err;
      });
      for (const v of model.versions)
        await this.#files.delete(modelObjectName(p.tenantId, modelId, v.sha256));
      return true;
    });
  }

  bind(p: Principal, input: BindInput): Promise<ModelState> {
    return mapped(async () => {
      if (!(await this.#queries.channel(p.tenantId, input.channelId))) {
        throw new ApiError('NOT_FOUND', `channel ${input.channelId} not found`);
      }
      const model = this.#catalog.get(p.tenantId, input.modelId);
      if (!model) throw new InferenceError('NOT_FOUND', `model ${input.modelId} not found`);
      const measurements = [...input.measurements];
      if (
        measurements.length === 0 ||
        measurements.length > 64 ||
        measurements.some((m) => m.length === 0 || m.length > 256)
      ) {
        throw invalid('input.measurements', '1 to 64 names of 1 to 256 characters');
      }
      const latest = model.versions.at(-1);
      const pre = latest?.preprocessing;
      const reads = pre?.kind === 'telemetry' ? pre.measurements.filter((m) => m !== HOUR_OF_DAY) : [];
      if (!reads.every((m) => measurements.includes(m))) {
        throw invalid('input.measurements', `the model reads ${reads.join(', ')}; bind those`);
      }
      if (pre?.kind === 'image' && measurements.length !== 1) {
        throw invalid(
          'input.measurements',
          'an image model reads one measurement (the record whose vd is the image)',
        );
      }
      return this.#handle(p, input.modelId, {
        type: 'bind',
        binding: {
          bindingId: v7(),
          channelId: input.channelId,
          thingIds: [...(input.thingIds ?? [])],
          measurements,
        },
      });
    });
  }

  unbind(p: Principal, modelId: string, bindingId: string): Promise<ModelState> {
    return mapped(() => this.#handle(p, modelId, { type: 'unbind', bindingId }));
  }

  /**
   * Queues a replay of a binding over its channel's messages logged from `from` to `to`: the
   * inference component (which serves the model and may publish results; the API may not) runs
   * the deployed version on each match and publishes results as live does, with the same ids,
   * passing over those whose result of that version is in the log. Its progress is the share of
   * the range read.
   */
  replay(p: Principal, bindingId: string, from: Date, to: Date): Job<ReplayResult> {
    const model = this.#catalog
      .list(p.tenantId)
      .find((m) => m.bindings.some((b) => b.bindingId === bindingId));
    if (!model) throw new ApiError('NOT_FOUND', `binding ${bindingId} not found`);
    const version = model.deployedVersion;
    if (version === undefined)
      throw new ApiError('NOT_ALLOWED', `model ${model.name} is not deployed: deploy the version to replay`);
    validLogRange(from, to);
    // the work may start inside submit, before its job is returned: the replay has its own id
    const replayId = v7();
    return this.replays.submit(p.tenantId, 'replay', bindingId, (signal, progress) =>
      requestReplay(
        this.#nc,
        {
          jobId: replayId,
          tenantId: p.tenantId,
          modelId: model.id,
          bindingId,
          version,
          from: from.toISOString(),
          to: to.toISOString(),
        },
        { signal, onProgress: progress },
      ),
    );
  }

  predict(
    p: Principal,
    model: { id?: string; name?: string },
    inputs: readonly PredictInput[],
    options: {
      version?: number | null | undefined;
      timeout?: string | null | undefined;
      signal?: AbortSignal;
    } = {},
  ): Promise<Prediction> {
    return mapped(async () => {
      let timeoutMs: number | undefined;
      if (options.timeout) {
        try {
          timeoutMs = parseDuration(options.timeout, { max: MAX_PREDICT_TIMEOUT_MS });
        } catch (err) {
          throw invalid('timeout', (err as Error).message);
        }
      }
      return this.#predictor.predict(p.tenantId, model, inputs, {
        version: options.version ?? undefined,
        timeoutMs,
        signal: options.signal,
      });
    });
  }

  /** Queues a prediction as a job of the tenant's queue. */
  submitPredict(p: Principal, modelId: string, input: PredictInput, version?: number | null): Job {
    try {
      this.#predictor.resolve(p.tenantId, { id: modelId }, version ?? undefined);
      return this.jobs.submit(p.tenantId, 'predict', modelId, (signal) =>
        this.#predictor.predict(p.tenantId, { id: modelId }, [input], {
          version: version ?? undefined,
          signal,
        }),
      );
    } catch (err) {
      throw toModelApiError(err);
    }
  }

  async close(): Promise<void> {
    this.jobs.close();
    this.replays.close();
    await this.#pool.close();
  }
}
