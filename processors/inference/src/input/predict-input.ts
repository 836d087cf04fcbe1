import { InferenceError } from '../errors.ts';
import type { ModelInfo } from '../onnx/model-info.ts';
import { sampleSize } from '../onnx/tensor-info.ts';
import { imageToTensor } from './image.ts';

/** One sample to predict on: exactly one of an image, named values, or a raw tensor. */
export interface PredictInput {
  /** An image file (PNG, JPEG, BMP, TIFF, …), for models with image preprocessing. */
  image?: Uint8Array | undefined;
  /** Measurements by name, for models with telemetry preprocessing. */
  values?: Readonly<Record<string, number>> | undefined;
  /** The input tensor's values of one sample, flattened (the model's shape without the batch). */
  tensor?: readonly number[] | undefined;
}

/** Most values one request's tensor may hold. @default 1 Mi */
export const MAX_TENSOR_VALUES = 1 << 20;

/** One sample as the model's input values (INVALID_INPUT naming what does not fit). */
export async function toSample(info: ModelInfo, input: PredictInput): Promise<Float32Array> {
  const given = [input.image, input.values, input.tensor].filter((x) => x !== undefined).length;
  if (given !== 1) throw new InferenceError('INVALID_INPUT', 'give exactly one of image, values, tensor');
  const spec = info.preprocessing;
  const model = info.inputs[0];
  if (!model) throw new InferenceError('INVALID_MODEL', 'the model has no input');
  const size = sampleSize(model);
  if (input.tensor) {
    if (input.tensor.length !== size) {
      throw new InferenceError(
        'INVALID_INPUT',
        `tensor: ${input.tensor.length} values given; input ${model.name} [${model.shape.join(', ')}] takes ${size} per sample`,
      );
    }
    const out = Float32Array.from(input.tensor);
    if (out.some((v) => !Number.isFinite(v)))
      throw new InferenceError('INVALID_INPUT', 'tensor: values must be finite numbers');
    return out;
  }
  if (input.image) {
    if (spec.kind !== 'image') {
      throw new InferenceError(
        'INVALID_INPUT',
        `image: this model takes ${spec.kind === 'telemetry' ? 'values' : 'a tensor'}`,
      );
    }
    return imageToTensor(input.image, spec);
  }
  const values = input.values ?? {};
  if (spec.kind !== 'telemetry') {
    throw new InferenceError(
      'INVALID_INPUT',
      `values: this model takes ${spec.kind === 'image' ? 'an image' : 'a tensor'}`,
    );
  }
  return Float32Array.from(
    spec.measurements.map((name) => {
      const v = values[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InferenceError(
          'INVALID_INPUT',
          `values: ${name} is missing (the model reads ${spec.measurements.join(', ')})`,
        );
      }
      return v;
    }),
  );
}
