import { clears, holds } from './condition.ts';
import { alertIdOf } from './ids.ts';
import type { AlertTransition, Evaluation, MeasuredValue, Reading, Rule, SeriesState } from './types.ts';

/** Most samples a window keeps per series (readings beyond it thin the oldest out). */
export const MAX_WINDOW_SAMPLES = 1_000;

/**
 * The value the condition compares for a reading: the reading itself, or over the window
 * ending at it: its rate of change per second (against the oldest reading in the window), its
 * average, minimum or maximum. `undefined` when there is nothing to compare yet (a rate from
 * one reading).
 */
function compared(rule: Rule, samples: [number, number][], reading: Reading): MeasuredValue | undefined {
  const aggregate = rule.def.condition.aggregate ?? 'value';
  if (aggregate === 'value') return reading.value;
  if (samples.length === 0) return undefined;
  const values = samples.map(([, v]) => v);
  switch (aggregate) {
    case 'rate': {
      const [t0, v0] = samples[0]!;
      const [t1, v1] = samples[samples.length - 1]!;
      return t1 > t0 ? ((v1 - v0) * 1000) / (t1 - t0) : undefined;
    }
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
  }
}

function windowed(rule: Rule, state: SeriesState, reading: Reading): [number, number][] {
  if ((rule.def.condition.aggregate ?? 'value') === 'value' || typeof reading.value !== 'number') return [];
  const from = reading.timeMs - rule.windowMs;
  const kept = state.samples.filter(([t]) => t >= from);
  kept.push([reading.timeMs, reading.value]);
  return kept.length > MAX_WINDOW_SAMPLES ? kept.slice(kept.length - MAX_WINDOW_SAMPLES) : kept;
}

const raise = (
  rule: Rule,
  reading: Pick<Reading, 'thingId' | 'name'>,
  timeMs: number,
  value?: MeasuredValue,
) =>
  ({
    kind: 'raised',
    alertId: alertIdOf(rule.id, reading.thingId, reading.name, timeMs),
    timeMs,
    value,
    severity: rule.def.severity,
  }) satisfies AlertTransition;

/**
 * Evaluates one reading of a series (pure). Event time rules: a reading older than the last
 * one evaluated for the series is not evaluated (late and out-of-order readings change
 * nothing); durations are measured between readings' times, and a duration that passed
 * between two readings raises at the moment it passed, whether the reading or the timer notices
 * first, with the same alert id.
 */
export function evaluateReading(rule: Rule, state: SeriesState, reading: Reading): Evaluation | undefined {
  if (state.lastTime !== null && reading.timeMs < state.lastTime) return undefined;
  const next: SeriesState = { ...state, lastTime: reading.timeMs, channelId: reading.channelId };
  const transitions: AlertTransition[] = [];
  const { condition } = rule.def;

  if (condition.op === 'no_data') {
    const silentSince = state.lastTime;
    if (!state.openAlertId && silentSince !== null && reading.timeMs > silentSince + rule.forMs) {
      // the silence ran out before this reading: raised then (as the timer would have), resolved now
      const t = raise(rule, reading, silentSince + rule.forMs, undefined);
      transitions.push(t);
      transitions.push(resolved(rule, t.alertId, reading.timeMs, reading.value));
      return { state: next, transitions, timer: reading.timeMs + rule.forMs };
    }
    if (state.openAlertId) {
      transitions.push(resolved(rule, state.openAlertId, reading.timeMs, reading.value));
      next.openAlertId = null;
    }
    return { state: next, transitions, timer: reading.timeMs + rule.forMs };
  }

  next.samples = windowed(rule, state, reading);
  const x = compared(rule, next.samples, reading);
  if (x === undefined) return { state: next, transitions, timer: pendingTimer(rule, state) };
  next.lastValue = x;

  if (state.openAlertId) {
    if (clears(condition, x)) {
      transitions.push(resolved(rule, state.openAlertId, reading.timeMs, x));
      next.openAlertId = null;
      next.holds = holds(condition, x);
      next.since = next.holds ? reading.timeMs : null;
    }
    return { state: next, transitions, timer: null };
  }

  if (!holds(condition, x)) {
    next.holds = false;
    next.since = null;
    return { state: next, transitions, timer: null };
  }
  const since = state.holds && state.since !== null ? state.since : reading.timeMs;
  next.holds = true;
  next.since = since;
  const dueAt = since + rule.forMs;
  if (reading.timeMs >= dueAt) {
    const t = raise(rule, reading, dueAt, x);
    transitions.push(t);
    next.openAlertId = t.alertId;
    return { state: next, transitions, timer: null };
  }
  return { state: next, transitions, timer: dueAt };
}

function pendingTimer(rule: Rule, state: SeriesState): number | null {
  return state.holds && state.since !== null && !state.openAlertId ? state.since + rule.forMs : null;
}

function resolved(rule: Rule, alertId: string, timeMs: number, value?: MeasuredValue): AlertTransition {
  return { kind: 'resolved', alertId, timeMs, value, severity: rule.def.severity };
}

/**
 * A series' timer came due at `dueMs` (pure): the condition has held for the whole duration,
 * or (for `no_data`) the thing has been silent for it. A timer that no longer matches the
 * state (a reading moved it meanwhile) does nothing.
 */
export function evaluateTimer(
  rule: Rule,
  state: SeriesState,
  series: { thingId: string; name: string },
  dueMs: number,
): Evaluation | undefined {
  if (state.openAlertId) return undefined;
  if (rule.def.condition.op === 'no_data') {
    if (state.lastTime === null || state.lastTime + rule.forMs !== dueMs) return undefined;
  } else if (!state.holds || state.since === null || state.since + rule.forMs !== dueMs) {
    return undefined;
  }
  const t = raise(rule, series, dueMs, state.lastValue ?? undefined);
  return { state: { ...state, openAlertId: t.alertId }, transitions: [t], timer: null };
}
