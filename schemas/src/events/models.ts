import Type, { type Static } from 'typebox';
import { data, defineEvent, Id, Name } from './common.ts';

/**
 * Models: registry entities (`reg.<tenant>.model.<id>`) whose versions are ONNX files in the
 * `models` object store. Every version's metadata travels in `model.version-added`, so the
 * inference processor's and the API's view of the models is a fold of these events.
 */

/** A model name: one subject token (it names telemetry `<model>:label` and the subtopic `inference/<model>`). */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const ModelName = Type.String({ pattern: MODEL_NAME_PATTERN });
const ModelVersion = Type.Integer({ minimum: 1, maximum: 1_000_000 });
/** A measurement (SenML resolved name) a model reads. */
const Measurement = Type.String({ minLength: 1, maxLength: 256 });

/** An input or output of the ONNX graph as read from the file; -1 marks a dynamic dimension. */
const TensorInfo = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    type: Type.String({ minLength: 1, maxLength: 64 }),
    shape: Type.Array(Type.Integer({ minimum: -1 }), { maxItems: 8 }),
  },
  { additionalProperties: false },
);

/** How a message or a request becomes the model's input tensor. */
export const Preprocessing = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('image'),
      width: Type.Integer({ minimum: 1, maximum: 4096 }),
      height: Type.Integer({ minimum: 1, maximum: 4096 }),
      grayscale: Type.Boolean(),
      /** Pixel values 0..255 are mapped linearly onto [min, max]. */
      scale: Type.Tuple([Type.Number(), Type.Number()]),
      /** Dark on light becomes light on dark (before scaling). */
      invert: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('telemetry'),
      /** The measurements, in input order. */
      measurements: Type.Array(Measurement, { minItems: 1, maxItems: 64 }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('tensor') }, { additionalProperties: false }),
]);
export type ModelPreprocessing = Static<typeof Preprocessing>;

/** What the output tensors mean. */
export const Postprocessing = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('classification'),
      /** The output holding class scores (probabilities, or logits softmaxed when `softmax`). */
      output: Type.String({ minLength: 1, maxLength: 256 }),
      topK: Type.Integer({ minimum: 1, maximum: 100 }),
      softmax: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('regression'), output: Type.String({ minLength: 1, maxLength: 256 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('anomaly'),
      output: Type.String({ minLength: 1, maxLength: 256 }),
      threshold: Type.Number(),
      /** True when a score below the threshold is the anomaly (IsolationForest); false: above. */
      below: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
]);
export type ModelPostprocessing = Static<typeof Postprocessing>;

export const ModelCreated = defineEvent(
  'model.created',
  1,
  data({ modelId: Id, name: ModelName, description: Type.String({ maxLength: 1024 }) }),
  'A model was registered (its first version follows).',
);

export const ModelVersionAdded = defineEvent(
  'model.version-added',
  1,
  data({
    modelId: Id,
    version: ModelVersion,
    /** The file's `sha256:<hex>`; the object `<tenant>/<model>/<version>` of the `models` store. */
    sha256: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
    bytes: Type.Integer({ minimum: 1 }),
    description: Type.String({ maxLength: 1024 }),
    labels: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 10_000 }),
    inputs: Type.Array(TensorInfo, { minItems: 1, maxItems: 32 }),
    outputs: Type.Array(TensorInfo, { minItems: 1, maxItems: 32 }),
    preprocessing: Preprocessing,
    postprocessing: Postprocessing,
    /** `upload`, or `training` for a version trained on the platform. */
    source: Type.Enum(['upload', 'training'] as const),
    /** Training metrics (e.g. samples, accuracy), by name. */
    metrics: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Number())),
  }),
  'A new version of a model was stored (uploaded, or trained on the platform).',
);

export const ModelDeployed = defineEvent(
  'model.deployed',
  1,
  data({ modelId: Id, version: ModelVersion }),
  'A version of a model serves: it loaded and passed a smoke input (a rollback is a deploy of an older one).',
);

export const ModelUndeployed = defineEvent(
  'model.undeployed',
  1,
  data({ modelId: Id }),
  'A model stopped serving.',
);

export const ModelBound = defineEvent(
  'model.bound',
  1,
  data({
    modelId: Id,
    bindingId: Id,
    /** The channel whose messages it runs on. */
    channelId: Id,
    /** Only these things' messages; all the channel's when empty. */
    thingIds: Type.Array(Id, { maxItems: 1000, uniqueItems: true }),
    /** A message runs the model when it holds all of these (an image: the one record's `vd`). */
    measurements: Type.Array(Measurement, { minItems: 1, maxItems: 64 }),
  }),
  'A model runs on every matching message of a channel.',
);

export const ModelUnbound = defineEvent(
  'model.unbound',
  1,
  data({ modelId: Id, bindingId: Id }),
  'A binding of a model was removed.',
);

export const ModelDeleted = defineEvent(
  'model.deleted',
  1,
  data({ modelId: Id, name: Name }),
  'A model (undeployed) was deleted with its versions.',
);

/** Model event schemas by type. */
export const MODEL_EVENTS = {
  'model.created': ModelCreated,
  'model.version-added': ModelVersionAdded,
  'model.deployed': ModelDeployed,
  'model.undeployed': ModelUndeployed,
  'model.bound': ModelBound,
  'model.unbound': ModelUnbound,
  'model.deleted': ModelDeleted,
} as const;

/** `'model.created' | 'model.version-added' | …` */
export type ModelEventType = keyof typeof MODEL_EVENTS;
