import type { ResolvedSenmlRecord } from '@telly/schemas';
import type { PredictResult } from '../onnx/postprocess.ts';

/**
 * A result as telemetry points named after the model: `<model>:label` and
 * `<model>:probability` (classifiers), `<model>:value` (regressions), `<model>:score` and
 * `<model>:anomaly` (anomaly models), at the input's time, so they are queried, plotted,
 * subscribed to, exported and alerted on like any reading.
 */
export function resultRecords(
  model: string,
  result: PredictResult,
  timeSeconds: number,
): ResolvedSenmlRecord[] {
  const t = timeSeconds;
  const records: ResolvedSenmlRecord[] = [];
  const top = result.predictions[0];
  if (top) {
    records.push(
      { n: `${model}:label`, vs: top.label, t },
      { n: `${model}:probability`, v: top.probability, t },
    );
  }
  if (result.value !== undefined && Number.isFinite(result.value))
    records.push({ n: `${model}:value`, v: result.value, t });
  if (result.score !== undefined && Number.isFinite(result.score))
    records.push({ n: `${model}:score`, v: result.score, t });
  if (result.anomaly !== undefined) records.push({ n: `${model}:anomaly`, vb: result.anomaly, t });
  return records;
}

/** The subtopic a model's results are published on, under the input's channel: `inference/<model>`. */
export const RESULT_SUBTOPIC = 'inference';
