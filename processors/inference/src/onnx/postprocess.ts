import type { ModelPostprocessing } from '@telly/schemas';

export interface Prediction {
  label: string;
  probability: number;
}

/** What one sample's run answers. */
export interface PredictResult {
  /** Top-k classes, most probable first (classifiers; empty otherwise). */
  predictions: Prediction[];
  /** Every output tensor of the sample, flattened, by output name. */
  outputs: Record<string, number[]>;
  /** The value a regression predicts. */
  value?: number;
  /** An anomaly model's score, and whether it crossed the threshold. */
  score?: number;
  anomaly?: boolean;
}

function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The result of one sample from its outputs, as the postprocessing spec reads them. */
export function postprocess(
  spec: ModelPostprocessing,
  labels: readonly string[],
  outputs: Record<string, number[]>,
): PredictResult {
  const main = outputs[spec.output] ?? [];
  switch (spec.kind) {
    case 'classification': {
      const probabilities = spec.softmax ? softmax(main) : main;
      const predictions = probabilities
        .map((p, i) => ({ label: labels[i] ?? String(i), probability: Math.min(1, Math.max(0, p)) }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, spec.topK);
      return { predictions, outputs };
    }
    case 'regression':
      return { predictions: [], outputs, value: main[0] ?? Number.NaN };
    case 'anomaly': {
      const score = main[0] ?? Number.NaN;
      return {
        predictions: [],
        outputs,
        score,
        anomaly: spec.below ? score < spec.threshold : score > spec.threshold,
      };
    }
  }
}
