import onnxProto from 'onnx-proto';
import { FLOAT, node, valueInfo } from '../onnx/graph-builder.ts';

const { onnx } = onnxProto;

/** The shape of `deepMlp`: where a run's time goes is these multiply-adds. */
export interface DeepMlpShape {
  /** Values of one sample (input `x` [N, inputs]). @default 64 */
  inputs?: number;
  /** Width of the hidden layers. @default 352 */
  width?: number;
  /** Hidden width × width layers, all applying the same weight matrix. @default 160 */
  layers?: number;
  /** Classes of the output `probabilities` [N, classes]. @default 10 */
  classes?: number;
}

/**
 * A [rows, cols] initializer of deterministic weights in [-scale, scale] (a linear congruential
 * sequence from `seed`), stored as raw float32 bytes (4 per weight).
 */
function weights(name: string, rows: number, cols: number, scale: number, seed: number) {
  let s = seed;
  const values = Float32Array.from({ length: rows * cols }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 2 * scale;
  });
  return onnx.TensorProto.create({
    name,
    dataType: FLOAT,
    dims: [rows, cols],
    rawData: new Uint8Array(values.buffer),
  });
}

/**
 * A compute-bound classifier for benchmarks, generated (not trained): x → tanh(x·W0) →
 * `layers` × tanh(h·W) → softmax(h·W2). The hidden layers share one weight matrix, so the file
 * stays small (≈ 0.6 MB at the defaults, under the API's request limit) while a sample costs
 * ≈ 20 M multiply-adds (about a millisecond on one core): what `session.run` takes is inference, not call overhead.
 */
export function deepMlp(shape: DeepMlpShape = {}): Uint8Array {
  const { inputs = 64, width = 352, layers = 160, classes = 10 } = shape;
  const scale = (fanIn: number) => Math.sqrt(3 / fanIn); // variance 1/fanIn: tanh neither saturates nor fades
  const hidden: ReturnType<typeof node>[] = [];
  let h = 'h0';
  for (let i = 1; i <= layers; i++) {
    hidden.push(node('MatMul', [h, 'w'], [`m${i}`]), node('Tanh', [`m${i}`], [`h${i}`]));
    h = `h${i}`;
  }
  const graph = onnx.GraphProto.create({
    name: 'telly-deep-mlp',
    input: [valueInfo('x', ['N', inputs])],
    output: [valueInfo('probabilities', ['N', classes])],
    initializer: [
      weights('w0', inputs, width, scale(inputs), 1),
      weights('w', width, width, scale(width), 2),
      weights('w2', width, classes, scale(width), 3),
    ],
    node: [
      node('MatMul', ['x', 'w0'], ['m0']),
      node('Tanh', ['m0'], ['h0']),
      ...hidden,
      node('MatMul', [h, 'w2'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: -1 }),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'telly',
    docString: `deep MLP ${inputs}-${width}×${layers}-${classes} (generated, shared hidden weights)`,
    opsetImport: [{ domain: '', version: 17 }],
    graph,
    metadataProps: [
      { key: 'labels', value: JSON.stringify(Array.from({ length: classes }, (_, i) => String(i))) },
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}
