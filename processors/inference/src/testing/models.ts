import { readFileSync } from 'node:fs';

/** The committed reference models (training/train.py). */
export const REFERENCE_MODELS = {
  digits: new URL('../../models/digits.onnx', import.meta.url),
  soilAnomaly: new URL('../../models/soil-anomaly.onnx', import.meta.url),
} as const;

export function referenceModel(name: keyof typeof REFERENCE_MODELS): Uint8Array {
  return new Uint8Array(readFileSync(REFERENCE_MODELS[name]));
}
