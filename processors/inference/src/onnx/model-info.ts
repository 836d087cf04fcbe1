import type { ModelPostprocessing, ModelPreprocessing } from '@telly/schemas';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { InferenceError } from '../errors.ts';
import { type TensorInfo, tensorInfoOf } from './tensor-info.ts';

/** What Telly reads from an ONNX file itself. */
export interface ModelInfo {
  description: string;
  labels: string[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  preprocessing: ModelPreprocessing;
  postprocessing: ModelPostprocessing;
}

/** Keys of the model's `metadata_props` that Telly reads (training/train.py writes them). */
export const METADATA_KEYS = {
  labels: 'labels',
  preprocessing: 'telly.preprocessing',
  postprocessing: 'telly.postprocessing',
} as const;

/** The file as a session, or INVALID_MODEL naming why onnxruntime refused it. */
export async function createSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (err) {
    throw new InferenceError(
      'INVALID_MODEL',
      `not an ONNX model onnxruntime can load: ${(err as Error).message.split('\n')[0]?.slice(0, 300)}`,
      { cause: err },
    );
  }
}

/**
 * Description, class labels, inputs and outputs, and the pre/postprocessing specs of a model:
 * the graph's own inputs and outputs from onnxruntime, the rest from the ModelProto (doc_string,
 * metadata_props), then `overrides` (what the uploader said) on top.
 */
export function readModelInfo(
  bytes: Uint8Array,
  session: ort.InferenceSession,
  overrides: Partial<Pick<ModelInfo, 'description' | 'labels' | 'preprocessing' | 'postprocessing'>> = {},
): ModelInfo {
  const proto = onnxProto.onnx.ModelProto.decode(bytes);
  const props = new Map((proto.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const json = <T>(key: string): T | undefined => {
    const raw = props.get(key);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      throw new InferenceError('INVALID_MODEL', `metadata_props ${key} is not JSON`);
    }
  };
  const inputs = session.inputMetadata.map(tensorInfoOf);
  const outputs = session.outputMetadata.map(tensorInfoOf);
  const labels = overrides.labels ?? json<unknown[]>(METADATA_KEYS.labels)?.map(String) ?? [];
  const info: ModelInfo = {
    description: (overrides.description ?? proto.docString ?? proto.graph?.docString ?? '').slice(0, 1024),
    labels,
    inputs,
    outputs,
    preprocessing: overrides.preprocessing ??
      json<ModelPreprocessing>(METADATA_KEYS.preprocessing) ?? { kind: 'tensor' },
    postprocessing:
      overrides.postprocessing ??
      json<ModelPostprocessing>(METADATA_KEYS.postprocessing) ??
      defaultPostprocessing(outputs, labels),
  };
  checkSpecs(info);
  return info;
}

/** A classifier when an output has one value per label, a regression of the first output otherwise. */
function defaultPostprocessing(outputs: TensorInfo[], labels: string[]): ModelPostprocessing {
  const scores = outputs.find((o) => labels.length > 0 && o.shape.at(-1) === labels.length);
  if (scores) return { kind: 'classification', output: scores.name, topK: Math.min(3, labels.length) };
  return { kind: 'regression', output: outputs[0]?.name ?? 'output' };
}

/** The specs name what the graph has. */
function checkSpecs(info: ModelInfo): void {
  if (info.inputs.length !== 1) {
    throw new InferenceError(
      'INVALID_MODEL',
      `Telly runs models with one input; this one has ${info.inputs.map((i) => i.name).join(', ')}`,
    );
  }
  const output = info.postprocessing.output;
  if (!info.outputs.some((o) => o.name === output)) {
    throw new InferenceError(
      'INVALID_MODEL',
      `postprocessing.output ${output} is not an output of the model (${info.outputs.map((o) => o.name).join(', ')})`,
    );
  }
  const input = info.inputs[0];
  const pre = info.preprocessing;
  if (input && input.type !== 'float32') {
    throw new InferenceError('INVALID_MODEL', `input ${input.name} is ${input.type}; Telly feeds float32`);
  }
  if (input && pre.kind === 'image') {
    const want = pre.width * pre.height * (pre.grayscale ? 1 : 3);
    const size = input.shape.slice(1).reduce((n, d) => n * d, 1);
    if (size !== want) {
      throw new InferenceError(
        'INVALID_MODEL',
        `preprocessing makes ${want} values per image (${pre.width}x${pre.height}${pre.grayscale ? ' gray' : ' RGB'}); input ${input.name} takes [${input.shape.join(', ')}]`,
      );
    }
  }
  if (input && pre.kind === 'telemetry') {
    const size = input.shape.slice(1).reduce((n, d) => n * d, 1);
    if (size !== pre.measurements.length) {
      throw new InferenceError(
        'INVALID_MODEL',
        `preprocessing reads ${pre.measurements.length} measurements; input ${input.name} takes [${input.shape.join(', ')}]`,
      );
    }
  }
}
