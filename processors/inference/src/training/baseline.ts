import onnxProto from 'onnx-proto';
import { InferenceError } from '../errors.ts';
import { FLOAT, INT64, node, tensor, valueInfo } from '../onnx/graph-builder.ts';

const { onnx } = onnxProto;

/** The pseudo-measurement a telemetry input may name: the reading's hour of day (UTC, 0–23). */
export const HOUR_OF_DAY = '@hour';
/** A robust z-score above this is an anomaly (Iglewicz and Hoaglin's 3.5). @default 3.5 */
export const DEFAULT_ANOMALY_THRESHOLD = 3.5;
/** Fewest readings a baseline is trained on. @default 48 */
export const MIN_TRAINING_POINTS = 48;
/** Most readings a training reads. @default 1,000,000 */
export const MAX_TRAINING_POINTS = 1_000_000;
/** MAD → standard deviation of a normal distribution. */
const MAD_TO_SIGMA = 1.4826;

export interface Reading {
  timeMs: number;
  value: number;
}

export interface Baseline {
  /** Median of each hour of day (UTC); hours without readings take the overall median. */
  medians: number[];
  /** Robust spread (1.4826 × MAD) of each hour, never below a floor so that a flat hour is not all anomaly. */
  scales: number[];
  metrics: { samples: number; hoursCovered: number; median: number; scale: number };
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = Math.floor(n / 2);
  return n % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function robust(values: number[]): { median: number; scale: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const m = median(sorted);
  const mad = median(sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b));
  return { median: m, scale: MAD_TO_SIGMA * mad };
}

/** Robust statistics by hour of day of one measurement's history (pure). */
export function trainBaseline(readings: readonly Reading[]): Baseline {
  const finite = readings.filter((r) => Number.isFinite(r.value));
  if (finite.length < MIN_TRAINING_POINTS) {
    throw new InferenceError(
      'INVALID_INPUT',
      `the window holds ${finite.length} readings; a baseline needs at least ${MIN_TRAINING_POINTS}`,
    );
  }
  const all = robust(finite.map((r) => r.value));
  const floor = Math.max(all.scale * 0.1, Math.abs(all.median) * 1e-3, 1e-6);
  const byHour: number[][] = Array.from({ length: 24 }, () => []);
  for (const r of finite) byHour[new Date(r.timeMs).getUTCHours()]?.push(r.value);
  const medians: number[] = [];
  const scales: number[] = [];
  let hoursCovered = 0;
  for (const values of byHour) {
    if (values.length < 3) {
      medians.push(all.median);
      scales.push(Math.max(all.scale, floor));
      continue;
    }
    hoursCovered++;
    const h = robust(values);
    medians.push(h.median);
    scales.push(Math.max(h.scale, floor));
  }
  return { medians, scales, metrics: { samples: finite.length, hoursCovered, ...all } };
}

/**
 * The baseline as an ONNX graph (opset 17), built with onnx-proto: input `reading` [N, 2] =
 * (hour of day, value), output `scores` [N, 1] = |value − median[hour]| / scale[hour], a robust
 * z-score; the metadata says how Telly feeds and reads it.
 */
export function baselineToOnnx(
  baseline: Baseline,
  options: { measurement: string; description: string; threshold?: number },
): Uint8Array {
  const threshold = options.threshold ?? DEFAULT_ANOMALY_THRESHOLD;
  const graph = onnx.GraphProto.create({
    name: 'telly-baseline',
    input: [valueInfo('reading', ['N', 2])],
    output: [valueInfo('scores', ['N', 1])],
    initializer: [
      tensor('medians', FLOAT, [24], baseline.medians),
      tensor('scales', FLOAT, [24], baseline.scales),
      tensor('col_hour', INT64, [], [0]),
      tensor('col_value', INT64, [], [1]),
      tensor('hours', INT64, [], [24]),
      tensor('axis1', INT64, [1], [1]),
    ],
    node: [
      node('Gather', ['reading', 'col_hour'], ['hour'], { axis: 1 }),
      node('Gather', ['reading', 'col_value'], ['value'], { axis: 1 }),
      node('Floor', ['hour'], ['hour_floor']),
      node('Cast', ['hour_floor'], ['hour_int'], { to: INT64 }),
      node('Mod', ['hour_int', 'hours'], ['hour_index']),
      node('Gather', ['medians', 'hour_index'], ['median'], { axis: 0 }),
      node('Gather', ['scales', 'hour_index'], ['scale'], { axis: 0 }),
      node('Sub', ['value', 'median'], ['deviation']),
      node('Abs', ['deviation'], ['distance']),
      node('Div', ['distance', 'scale'], ['score']),
      node('Unsqueeze', ['score', 'axis1'], ['scores']),
    ],
  });
  const json = (v: unknown) => JSON.stringify(v);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'telly',
    docString: options.description,
    opsetImport: [{ domain: '', version: 17 }],
    graph,
    metadataProps: [
      { key: 'labels', value: '[]' },
      {
        key: 'telly.preprocessing',
        value: json({ kind: 'telemetry', measurements: [HOUR_OF_DAY, options.measurement] }),
      },
      {
        key: 'telly.postprocessing',
        value: json({ kind: 'anomaly', output: 'scores', threshold, below: false }),
      },
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}
