import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

/** The committed reference models (training/train.py). */
export const REFERENCE_MODELS = {
  digits: new URL('../../models/digits.onnx', import.meta.url),
  soilAnomaly: new URL('../../models/soil-anomaly.onnx', import.meta.url),
} as const;

export function referenceModel(name: keyof typeof REFERENCE_MODELS): Uint8Array {
  return new Uint8Array(readFileSync(REFERENCE_MODELS[name]));
}

/** The same graph under another description: another file (sha256), so another version. */
export function withDescription(file: Uint8Array, description: string): Uint8Array {
  const model = onnxProto.onnx.ModelProto.decode(file);
  model.docString = description;
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

/**
 * The same graph, `bytes` larger: an initializer no node reads (the runtime drops it on load),
 * as a model with large weights is sent and stored.
 */
export function withPadding(file: Uint8Array, bytes: number): Uint8Array {
  const model = onnxProto.onnx.ModelProto.decode(file);
  model.graph?.initializer?.push(
    onnxProto.onnx.TensorProto.create({
      name: 'telly_test_padding',
      dataType: onnxProto.onnx.TensorProto.DataType.UINT8,
      dims: [bytes],
      rawData: new Uint8Array(bytes).fill(7),
    }),
  );
  return onnxProto.onnx.ModelProto.encode(model).finish();
}
