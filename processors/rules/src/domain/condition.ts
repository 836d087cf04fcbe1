import type { RuleDefinition } from '@telly/schemas';
import type { MeasuredValue } from './types.ts';

type Condition = RuleDefinition['condition'];

/** Whether `x` satisfies the raise condition. A value of another type than the threshold never does. */
export function holds(condition: Condition, x: MeasuredValue): boolean {
  const { op, value, value2 } = condition;
  if (op === 'no_data') return false;
  if (op === 'eq') return x === value;
  if (op === 'neq') return typeof x === typeof value && x !== value;
  if (typeof x !== 'number') return false;
  if (op === 'between' || op === 'outside') {
    if (typeof value !== 'number' || typeof value2 !== 'number') return false;
    const inside = x >= value && x <= value2;
    return op === 'between' ? inside : !inside;
  }
  if (typeof value !== 'number') return false;
  switch (op) {
    case 'gt':
      return x > value;
    case 'gte':
      return x >= value;
    case 'lt':
      return x < value;
    case 'lte':
      return x <= value;
  }
}

/**
 * Whether a raised alert resolves at `x`. With `clearValue` (hysteresis) the value must pass
 * it on the safe side: below it for `gt` / `gte`, above it for `lt` / `lte`; so a value
 * wandering between threshold and clear value neither resolves nor raises again.
 */
export function clears(condition: Condition, x: MeasuredValue): boolean {
  const { op, clearValue } = condition;
  if (clearValue === undefined || typeof x !== 'number') return !holds(condition, x);
  switch (op) {
    case 'gt':
    case 'gte':
      return x < clearValue;
    case 'lt':
    case 'lte':
      return x > clearValue;
    default:
      return !holds(condition, x);
  }
}
