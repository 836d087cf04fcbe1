import type {
  ModelBinding,
  ModelState,
  ModelVersion,
  PredictInput,
  PredictResult,
  ReplayResult,
  TensorInfo,
} from '@telly/inference';
import type { Job } from '@telly/runtime';
import { GraphQLScalarType } from 'graphql';
import { builder, principalOf } from '../builder.ts';
import { ApiError, invalid } from '../errors.ts';
import { toModelApiError } from '../services/model-service.ts';
import { JobInterface, jobChanges, jobEvent } from './job.ts';

builder.addScalarType(
  'File',
  new GraphQLScalarType({
    name: 'File',
    description: 'A file sent in a GraphQL multipart request (graphql-multipart-request-spec).',
    serialize: () => {
      throw new Error('File is an input only');
    },
  }),
);

const ModelStatus = builder.enumType('ModelStatus', {
  values: ['UPLOADED', 'DEPLOYED'] as const,
});

const Tensor = builder.objectRef<TensorInfo>('ModelTensor').implement({
  description: 'An input or output of the ONNX graph; -1 is a dynamic dimension (the batch).',
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.exposeString('type'),
    shape: t.exposeIntList('shape'),
  }),
});

const Version = builder.objectRef<ModelVersion & { deployed: boolean }>('ModelVersion').implement({
  fields: (t) => ({
    version: t.exposeInt('version'),
    sha256: t.exposeString('sha256'),
    bytes: t.exposeInt('bytes'),
    description: t.exposeString('description'),
    labels: t.exposeStringList('labels', { complexity: 1 }),
    inputs: t.field({ type: [Tensor], resolve: (v) => v.inputs }),
    outputs: t.field({ type: [Tensor], resolve: (v) => v.outputs }),
    preprocessing: t.field({ type: 'JSON', resolve: (v) => v.preprocessing }),
    postprocessing: t.field({ type: 'JSON', resolve: (v) => v.postprocessing }),
    source: t.exposeString('source', { description: '"upload", or "training" for a version trained here' }),
    metrics: t.field({ type: 'JSON', nullable: true, resolve: (v) => v.metrics ?? null }),
    createdAt: t.field({ type: 'DateTime', resolve: (v) => new Date(v.createdAt) }),
    deployed: t.exposeBoolean('deployed'),
  }),
});

const Binding = builder.objectRef<ModelBinding>('ModelBinding').implement({
  description: "A model running on a channel's messages that hold its measurements.",
  fields: (t) => ({
    id: t.exposeID('bindingId'),
    channelId: t.exposeID('channelId'),
    thingIds: t.exposeIDList('thingIds'),
    measurements: t.exposeStringList('measurements'),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => new Date(b.createdAt) }),
  }),
});

export const Model = builder.objectRef<ModelState>('Model').implement({
  description: 'An ONNX model: versions (files by sha256), the one deployed, and bindings to streams.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    status: t.field({
      type: ModelStatus,
      resolve: (m) => (m.deployedVersion === undefined ? 'UPLOADED' : 'DEPLOYED'),
    }),
    deployedVersion: t.int({ nullable: true, resolve: (m) => m.deployedVersion ?? null }),
    latestVersion: t.int({ resolve: (m) => m.versions.at(-1)?.version ?? 0 }),
    labels: t.stringList({
      description: 'Class labels of the deployed version (else the newest).',
      resolve: (m) =>
        (m.versions.find((v) => v.version === m.deployedVersion) ?? m.versions.at(-1))?.labels ?? [],
    }),
    versions: t.field({
      type: [Version],
      description: 'Newest first.',
      resolve: (m) =>
        [...m.versions].reverse().map((v) => ({ ...v, deployed: v.version === m.deployedVersion })),
    }),
    bindings: t.field({ type: [Binding], resolve: (m) => m.bindings }),
    createdAt: t.field({ type: 'DateTime', resolve: (m) => new Date(m.createdAt) }),
    updatedAt: t.field({ type: 'DateTime', resolve: (m) => new Date(m.updatedAt) }),
  }),
});

const Class = builder.objectRef<{ label: string; probability: number }>('ModelPrediction').implement({
  fields: (t) => ({ label: t.exposeString('label'), probability: t.exposeFloat('probability') }),
});

const Result = builder.objectRef<PredictResult>('PredictResult').implement({
  fields: (t) => ({
    predictions: t.field({
      type: [Class],
      description: 'Top-k classes, most probable first.',
      resolve: (r) => r.predictions,
    }),
    outputs: t.field({
      type: 'JSON',
      description: 'Every output tensor, flattened, by name.',
      resolve: (r) => r.outputs,
    }),
    value: t.float({ nullable: true, resolve: (r) => r.value ?? null }),
    score: t.float({ nullable: true, resolve: (r) => r.score ?? null }),
    anomaly: t.boolean({ nullable: true, resolve: (r) => r.anomaly ?? null }),
  }),
});

interface PredictionShape {
  modelId: string;
  version: number;
  results: PredictResult[];
}

const Prediction = builder.objectRef<PredictionShape>('Prediction').implement({
  fields: (t) => ({
    modelId: t.exposeID('modelId'),
    version: t.exposeInt('version'),
    results: t.field({ type: [Result], resolve: (p) => p.results }),
  }),
});

const ModelJob = builder.objectRef<Job>('ModelJob').implement({
  description: 'A job of the tenant’s model queue: a prediction or a training.',
  interfaces: [JobInterface],
  fields: (t) => ({
    modelId: t.id({ resolve: (j) => j.subjectId }),
    prediction: t.field({
      type: Prediction,
      nullable: true,
      resolve: (j) => (j.kind === 'predict' && j.result ? toShape(j.result as never) : null),
    }),
    model: t.field({
      type: Model,
      nullable: true,
      description: 'What a training job produced (its new version is the newest).',
      resolve: (j) => (j.kind === 'train' && j.result ? (j.result as ModelState) : null),
    }),
  }),
});

const ReplayResultType = builder.objectRef<ReplayResult>('ReplayResult').implement({
  fields: (t) => ({
    version: t.exposeInt('version', {
      description: 'The model version that ran (deployed when it started).',
    }),
    messages: t.exposeInt('messages', { description: 'Log entries of the binding’s channel read.' }),
    completed: t.exposeInt('completed', { description: 'Results published, as live ones are.' }),
    failed: t.exposeInt('failed', { description: 'Inputs that failed (inference.failed).' }),
    skipped: t.exposeInt('skipped', {
      description: 'Inputs passed over: this version’s result is in the log already (live or replayed).',
    }),
  }),
});

const ReplayJob = builder.objectRef<Job<ReplayResult>>('ReplayJob').implement({
  description:
    'A replay of a binding over history, in the tenant’s replay queue; its progress is the share of the range’s log read.',
  interfaces: [JobInterface],
  fields: (t) => ({
    bindingId: t.id({ resolve: (j) => j.subjectId }),
    result: t.field({
      type: ReplayResultType,
      nullable: true,
      description: 'Once DONE: what was read and published.',
      resolve: (j) => j.result ?? null,
    }),
  }),
});

const toShape = (p: {
  model: ModelState;
  version: ModelVersion;
  results: PredictResult[];
}): PredictionShape => ({
  modelId: p.model.id,
  version: p.version.version,
  results: p.results,
});

const PredictInputType = builder.inputType('PredictInput', {
  description: 'One sample: exactly one of image (base64 of a PNG, JPEG, BMP, TIFF … file), values, tensor.',
  fields: (t) => ({
    image: t.string(),
    values: t.field({ type: 'JSON', description: 'measurements by name, e.g. {"temperature": 21.5}' }),
    tensor: t.floatList({ description: "one sample's input values, flattened" }),
  }),
});

/** Largest base64 image accepted in a GraphQL input (the body limit also holds). */
const MAX_IMAGE_BASE64 = 1_400_000;

function toPredictInput(input: {
  image?: string | null;
  values?: unknown;
  tensor?: readonly number[] | null;
}): PredictInput {
  const out: PredictInput = {};
  if (input.image != null) {
    if (input.image.length > MAX_IMAGE_BASE64)
      throw invalid('input.image', `at most ${MAX_IMAGE_BASE64} base64 characters`);
    const b64 = input.image.replace(/^data:[^,]*,/, '');
    if (!/^[A-Za-z0-9+/=_-]*$/.test(b64)) throw invalid('input.image', 'is not base64');
    out.image = new Uint8Array(Buffer.from(b64, 'base64'));
  }
  if (input.values != null) {
    if (typeof input.values !== 'object' || Array.isArray(input.values)) {
      throw invalid('input.values', 'an object of measurement names to numbers');
    }
    out.values = input.values as Record<string, number>;
  }
  if (input.tensor != null) out.tensor = input.tensor;
  return out;
}

const UploadModelInput = builder.inputType('UploadModelInput', {
  fields: (t) => ({
    file: t.field({ type: 'File', required: true, description: 'the .onnx file (multipart request)' }),
    name: t.string({ required: true, description: 'a new name makes a model; a known one adds a version' }),
    description: t.string(),
    labels: t.stringList({ description: 'class labels, overriding those in the file' }),
    preprocessing: t.field({ type: 'JSON', description: 'overrides the file’s (docs/inference.md#specs)' }),
    postprocessing: t.field({ type: 'JSON' }),
    deploy: t.boolean({ description: 'deploy the new version once stored' }),
  }),
});

const BindModelInput = builder.inputType('BindModelInput', {
  fields: (t) => ({
    modelId: t.id({ required: true }),
    channelId: t.id({ required: true }),
    thingIds: t.idList({ description: 'only these things’ messages (default: all of the channel)' }),
    measurements: t.stringList({ required: true, description: 'a message runs the model when it has these' }),
  }),
});

const TrainModelInput = builder.inputType('TrainModelInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'the model it becomes a version of (created if new)' }),
    thingId: t.id({ required: true }),
    measurement: t.string({ required: true }),
    from: t.field({ type: 'DateTime', description: 'default: 7 days before `to`' }),
    to: t.field({ type: 'DateTime', description: 'default: now' }),
    threshold: t.float({ description: 'robust z-score above which a reading is an anomaly (default 3.5)' }),
    deploy: t.boolean({ description: 'deploy the trained version' }),
  }),
});

builder.queryFields((t) => ({
  models: t.field({
    type: [Model],
    authScopes: { viewer: true },
    description: "The tenant's models, by name.",
    resolve: (_root, _args, ctx) => ctx.services.models.list(principalOf(ctx)),
  }),
  model: t.field({
    type: Model,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.models.get(principalOf(ctx), args.id) ?? null,
  }),
  predictJob: t.field({
    type: ModelJob,
    nullable: true,
    authScopes: { viewer: true },
    description: 'A job of the model queue (predict or train), while it is kept.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      (await ctx.services.models.jobs.get(principalOf(ctx).tenantId, args.id)) ?? null,
  }),
  replayJob: t.field({
    type: ReplayJob,
    nullable: true,
    authScopes: { operator: true },
    description: 'A replay of the tenant’s, while it is kept (an hour after it ended).',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      (await ctx.services.models.replays.get(principalOf(ctx).tenantId, args.id)) ?? null,
  }),
}));

builder.mutationFields((t) => ({
  uploadModel: t.field({
    type: Model,
    authScopes: { operator: true },
    description:
      'Stores an ONNX file as a new version (read, smoke-tested, by sha256), deploying it if asked.',
    args: { input: t.arg({ type: UploadModelInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      // yoga hands a File of its fetch implementation (not always the global class): duck-typed
      const file = input.file as unknown as { arrayBuffer?: unknown } | string | null;
      if (typeof file !== 'object' || file === null || typeof file.arrayBuffer !== 'function') {
        throw invalid('input.file', 'send the .onnx file as a part of a multipart request');
      }
      return ctx.services.models.upload(principalOf(ctx), {
        ...input,
        file: new Uint8Array(await (file as Blob).arrayBuffer()),
        labels: input.labels ?? undefined,
      });
    },
  }),
  deployModel: t.field({
    type: Model,
    authScopes: { operator: true },
    description: 'Serves a version (default: the newest) once it loaded and passed a smoke input.',
    args: { id: t.arg.id({ required: true }), version: t.arg.int() },
    resolve: (_root, args, ctx) => ctx.services.models.deploy(principalOf(ctx), args.id, args.version),
  }),
  undeployModel: t.field({
    type: Model,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.models.undeploy(principalOf(ctx), args.id),
  }),
  rollbackModel: t.field({
    type: Model,
    authScopes: { operator: true },
    description: 'Deploys the version that served before the current one.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.models.rollback(principalOf(ctx), args.id),
  }),
  deleteModel: t.boolean({
    authScopes: { operator: true },
    description: 'Deletes an undeployed model and its files.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.models.delete(principalOf(ctx), args.id),
  }),
  bindModel: t.field({
    type: Model,
    authScopes: { operator: true },
    description: 'Runs the deployed version on every matching message of a channel.',
    args: { input: t.arg({ type: BindModelInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.models.bind(principalOf(ctx), { ...input, measurements: input.measurements }),
  }),
  unbindModel: t.field({
    type: Model,
    authScopes: { operator: true },
    args: { modelId: t.arg.id({ required: true }), bindingId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.models.unbind(principalOf(ctx), args.modelId, args.bindingId),
  }),
  replayBinding: t.field({
    type: ReplayJob,
    authScopes: { operator: true },
    description:
      'Runs a binding’s deployed version over its channel’s messages logged between from and to (at most 31 days) as a job, publishing results (events and telemetry points) as live does; one already in the log for that version is not published again. Poll replayJob.',
    args: {
      bindingId: t.arg.id({ required: true }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.models.replay(principalOf(ctx), args.bindingId, args.from, args.to),
  }),
  cancelReplayJob: t.field({
    type: ReplayJob,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const job = await ctx.services.models.replays.cancel(principalOf(ctx).tenantId, args.id);
      if (!job) throw new ApiError('NOT_FOUND', `job ${args.id} not found`);
      return job;
    },
  }),
  predict: t.field({
    type: Prediction,
    authScopes: { viewer: true },
    description: 'Runs the deployed (or the given) version on one input and answers top-k and raw outputs.',
    args: {
      modelId: t.arg.id({ required: true }),
      input: t.arg({ type: PredictInputType, required: true }),
      version: t.arg.int(),
      timeout: t.arg.string({ description: 'e.g. "5s" (default 10s, at most 60s)' }),
    },
    resolve: async (_root, args, ctx) =>
      toShape(
        await ctx.services.models.predict(
          principalOf(ctx),
          { id: args.modelId },
          [toPredictInput(args.input)],
          {
            version: args.version,
            timeout: args.timeout,
          },
        ),
      ),
  }),
  trainModel: t.field({
    type: ModelJob,
    authScopes: { operator: true },
    description:
      "Trains an anomaly baseline of a thing's measurement (robust statistics by hour of day) as a job; it ends with a new version.",
    args: { input: t.arg({ type: TrainModelInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      try {
        return await ctx.services.models.train(principalOf(ctx), input);
      } catch (err) {
        throw toModelApiError(err);
      }
    },
  }),
  submitPredictJob: t.field({
    type: ModelJob,
    authScopes: { viewer: true },
    description: 'Queues a prediction in the tenant’s queue; poll predictJob or subscribe to it.',
    args: {
      modelId: t.arg.id({ required: true }),
      input: t.arg({ type: PredictInputType, required: true }),
      version: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.models.submitPredict(
        principalOf(ctx),
        args.modelId,
        toPredictInput(args.input),
        args.version,
      ),
  }),
  cancelPredictJob: t.field({
    type: ModelJob,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const job = await ctx.services.models.jobs.cancel(principalOf(ctx).tenantId, args.id);
      if (!job) throw new ApiError('NOT_FOUND', `job ${args.id} not found`);
      return job;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  predictJob: t.field({
    type: ModelJob,
    authScopes: { viewer: true },
    description: 'A job’s changes until it ends (whichever API instance runs it).',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => jobChanges(ctx.services.models.jobs, principalOf(ctx).tenantId, args.id),
    resolve: jobEvent,
  }),
  replayJob: t.field({
    type: ReplayJob,
    authScopes: { operator: true },
    description: 'A replay’s changes (its progress) until it ends, whichever API instance runs it.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      jobChanges(ctx.services.models.replays, principalOf(ctx).tenantId, args.id),
    resolve: jobEvent,
  }),
}));
