import { errorPredicate, TellyError } from '@telly/schemas';

/**
 * - `INVALID_MODEL`: the file is not an ONNX model onnxruntime can run, or its specs do not fit it.
 * - `INVALID_INPUT`: the input does not fit the model (shape, image, measurements).
 * - `MODEL_FAILED`: the model threw while running.
 * - `NOT_FOUND`: no such model or version (or another tenant's).
 * - `NOT_DEPLOYED`: the model serves no version.
 * - `TIMEOUT`: the prediction did not finish in time.
 */
export type InferenceErrorCode =
  | 'INVALID_MODEL'
  | 'INVALID_INPUT'
  | 'MODEL_FAILED'
  | 'NOT_FOUND'
  | 'NOT_DEPLOYED'
  | 'TIMEOUT';

export class InferenceError extends TellyError<InferenceErrorCode> {}

export const isInferenceError = errorPredicate(InferenceError);
