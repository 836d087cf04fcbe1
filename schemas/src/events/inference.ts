import Type from 'typebox';
import { data, defineEvent, Id } from './common.ts';

/**
 * Results of running an ONNX model (object store `models`) on a device message, on
 * `evt.<tenant>.inference.<thing>`.
 */

const ModelVersion = Type.Integer({
  minimum: 1,
  description: 'version of the model in the models object store',
});

/** MESSAGES stream sequence of the input message, to trace a result back to its input. */
const MessageSeq = Type.Integer({ minimum: 1 });

const Prediction = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 256 }),
    probability: Type.Number({ minimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);

/** Which model ran on which device message: shared by every inference event. */
const INFERENCE_TARGET = {
  modelId: Id,
  modelVersion: ModelVersion,
  thingId: Id,
  channelId: Id,
  messageSeq: Type.Optional(MessageSeq),
};

export const InferenceCompleted = defineEvent(
  'inference.completed',
  1,
  data({
    ...INFERENCE_TARGET,
    /** Top-k classes, most probable first (classifiers). */
    predictions: Type.Optional(Type.Array(Prediction, { maxItems: 100 })),
    /** Raw output tensors by output name, flattened (regressors, anything else). */
    outputs: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Number()))),
    durationMs: Type.Optional(Type.Number({ minimum: 0 })),
  }),
  'A model ran on a device message.',
);

export const InferenceFailed = defineEvent(
  'inference.failed',
  1,
  data({
    ...INFERENCE_TARGET,
    reason: Type.String({ minLength: 1, maxLength: 1024 }),
  }),
  'A model could not run on a device message (bad input, model error).',
);

/** Inference event schemas by type. */
export const INFERENCE_EVENTS = {
  'inference.completed': InferenceCompleted,
  'inference.failed': InferenceFailed,
} as const;
