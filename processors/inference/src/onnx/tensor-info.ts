/** An input or output of an ONNX graph; -1 marks a dynamic dimension (a batch, usually). */
export interface TensorInfo {
  name: string;
  type: string;
  shape: number[];
}

/** onnxruntime's metadata of a value: symbolic dimensions ("", "N", "batch") become -1. */
export function tensorInfoOf(meta: {
  name: string;
  isTensor: boolean;
  type?: unknown;
  shape?: unknown;
}): TensorInfo {
  const shape = Array.isArray(meta.shape)
    ? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1))
    : [];
  return { name: meta.name, type: meta.isTensor ? String(meta.type) : 'non-tensor', shape };
}

/** Elements of one sample: the product of the dimensions after the first (the batch). */
export function sampleSize(info: TensorInfo): number {
  return info.shape.slice(1).reduce((n, d) => n * Math.max(d, 1), 1);
}
