import type { RuleCondition } from './api/types.ts';

const SIGN: Partial<Record<RuleCondition['op'], string>> = {
  GT: '>',
  GTE: '≥',
  LT: '<',
  LTE: '≤',
  EQ: '=',
  NEQ: '≠',
};

/** A condition in words: "temperature > 30 for 5m, clears below 28". */
export function describeCondition(measurement: string, c: RuleCondition): string {
  if (c.op === 'NO_DATA') return `no ${measurement} for ${c.for}`;
  const aggregate = c.aggregate ?? 'VALUE';
  const subject =
    aggregate === 'VALUE'
      ? measurement
      : aggregate === 'RATE'
        ? `rate of ${measurement} per second over ${c.window}`
        : `${aggregate.toLowerCase()} of ${measurement} over ${c.window}`;
  const value =
    c.value ??
    (c.valueString !== null && c.valueString !== undefined ? JSON.stringify(c.valueString) : c.valueBoolean);
  let words =
    c.op === 'BETWEEN'
      ? `${subject} between ${value} and ${c.value2}`
      : c.op === 'OUTSIDE'
        ? `${subject} outside ${value} to ${c.value2}`
        : `${subject} ${SIGN[c.op]} ${value}`;
  if (c.for) words += ` for ${c.for}`;
  if (c.clearValue !== null && c.clearValue !== undefined)
    words += `, clears ${c.op === 'LT' || c.op === 'LTE' ? 'above' : 'below'} ${c.clearValue}`;
  return words;
}
