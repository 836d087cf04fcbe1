export { Tensor as OrtTensor } from 'onnxruntime-node';
export { DEFAULT_CATALOG_WAIT_MS, MODEL_EVENTS_FILTER, ModelCatalog } from './catalog/model-catalog.ts';
export type { ModelCommand } from './catalog/model-decider.ts';
export { MAX_BINDINGS, MAX_VERSIONS, modelDecider } from './catalog/model-decider.ts';
export type { ModelBinding, ModelEvent, ModelState, ModelVersion } from './catalog/model-state.ts';
export { servingVersion } from './catalog/model-state.ts';
export { component } from './component.ts';
export type { InferenceErrorCode } from './errors.ts';
export { InferenceError, isInferenceError } from './errors.ts';
export { IMAGE_FORMATS, MAX_IMAGE_PIXELS } from './input/image.ts';
export type { PredictInput } from './input/predict-input.ts';
export { MAX_TENSOR_VALUES, toSample } from './input/predict-input.ts';
export { LoadedModel } from './onnx/loaded-model.ts';
export type { ModelInfo } from './onnx/model-info.ts';
export type { PredictResult } from './onnx/postprocess.ts';
export type { TensorInfo } from './onnx/tensor-info.ts';
export { DEFAULT_MAX_MODEL_BYTES, ModelFiles, modelObjectName, sha256Of } from './serving/model-files.ts';
export { DEFAULT_POOL_MODELS, ModelPool } from './serving/model-pool.ts';
export type { Prediction } from './serving/predictor.ts';
export { DEFAULT_PREDICT_TIMEOUT_MS, MAX_PREDICT_SAMPLES, Predictor } from './serving/predictor.ts';
export { INFERENCE_PROCESSOR, INFERENCE_PROTOCOL, inferenceProcessor } from './stream/inference-processor.ts';
export type { ReplayOptions, ReplayResult } from './stream/replay.ts';
export { DEFAULT_REPLAY_BATCH, replayBinding } from './stream/replay.ts';
export type { ReplayRequest, ReplayUpdate } from './stream/replay-protocol.ts';
export {
  DEFAULT_REPLAY_SILENCE_MS,
  REPLAY_REQUEST_SUBJECT,
  replayCancelSubject,
  replayReplySubject,
  requestReplay,
} from './stream/replay-protocol.ts';
export { DEFAULT_MAX_REPLAYS, ReplayService } from './stream/replay-service.ts';
export { MAX_EVENT_OUTPUT_VALUES } from './stream/result-writer.ts';
export { RESULT_SUBTOPIC, resultRecords } from './stream/results.ts';
export type { Serving } from './stream/serving.ts';
export { ServingModels } from './stream/serving.ts';
export type { Baseline, Reading } from './training/baseline.ts';
export {
  baselineToOnnx,
  DEFAULT_ANOMALY_THRESHOLD,
  HOUR_OF_DAY,
  MAX_TRAINING_POINTS,
  MIN_TRAINING_POINTS,
  trainBaseline,
} from './training/baseline.ts';
