// The result head of a scenario measured against a reference run beside it: both values, their
// ratio, and whether it reaches the target ratio.
import type { ScenarioResult } from '../types.ts';
import { round } from './stats.ts';

export function ratioVerdict(
  measure: { label: string; unit: string; referenceLabel?: string },
  telly: number,
  reference: number,
  target: number,
): Pick<ScenarioResult, 'telly' | 'reference' | 'ratio' | 'met' | 'verdict'> {
  const ratio = telly / reference;
  return {
    telly: { label: measure.label, value: round(telly), unit: measure.unit },
    reference: {
      label: measure.referenceLabel ?? measure.label,
      value: round(reference),
      unit: measure.unit,
      kind: 'measured',
    },
    ratio: round(ratio),
    met: ratio >= target,
    verdict: `${round(ratio, 2)}× ${ratio >= target ? '≥' : '<'} ${target}×`,
  };
}
