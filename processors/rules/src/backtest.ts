import type { ProcessorMessage } from '@telly/runtime';
import { pointsOf } from '@telly/schemas';
import { evaluateReading, evaluateTimer } from './domain/evaluate.ts';
import { initialSeriesState, type MeasuredValue, type Rule, type SeriesState } from './domain/types.ts';

/** An alert a backtest finds: what the live rule would have raised (same id) and when it resolved. */
export interface BacktestAlert {
  alertId: string;
  thingId: string;
  name: string;
  value: MeasuredValue | undefined;
  raisedAt: Date;
  resolvedAt: Date | null;
}

export interface BacktestOptions {
  from: Date;
  to: Date;
}

interface Series {
  state: SeriesState;
  timer: number | null;
  thingId: string;
  name: string;
}

/**
 * Runs a rule over log entries (pure: nothing is written, mailed or sent) exactly as the live
 * evaluator folds them, firing its timers in event time: before a reading, the timers due by
 * its time; at the end, those due by `to`. Readings outside [from, to) are not evaluated.
 */
export function backtest(
  rule: Rule,
  entries: Iterable<ProcessorMessage>,
  { from, to }: BacktestOptions,
): { alerts: BacktestAlert[]; readings: number } {
  const series = new Map<string, Series>();
  const alerts = new Map<string, BacktestAlert>();
  let readings = 0;
  const apply = (s: Series, result: ReturnType<typeof evaluateReading>) => {
    if (!result) return;
    s.state = result.state;
    s.timer = result.timer;
    for (const t of result.transitions) {
      if (t.kind === 'raised') {
        alerts.set(t.alertId, {
          alertId: t.alertId,
          thingId: s.thingId,
          name: s.name,
          value: t.value,
          raisedAt: new Date(t.timeMs),
          resolvedAt: null,
        });
      } else {
        const a = alerts.get(t.alertId);
        if (a) a.resolvedAt = new Date(t.timeMs);
      }
    }
  };
  const fireUntil = (ms: number) => {
    for (const s of series.values()) {
      if (s.timer !== null && s.timer <= ms) {
        const due = s.timer;
        s.timer = null;
        apply(s, evaluateTimer(rule, s.state, s, due));
      }
    }
  };
  for (const entry of entries) {
    let points: ReturnType<typeof pointsOf>;
    try {
      points = pointsOf(entry);
    } catch {
      continue;
    }
    for (const p of points) {
      if (p.tenantId !== rule.tenantId || p.name !== rule.def.measurement) continue;
      if (rule.def.thingId !== undefined && rule.def.thingId !== p.thingId) continue;
      if (rule.def.channelId !== undefined && rule.def.channelId !== p.channelId) continue;
      if (p.timeMs < from.getTime() || p.timeMs >= to.getTime()) continue;
      const value = p.value ?? p.stringValue ?? p.boolValue;
      if (value === undefined) continue;
      readings++;
      fireUntil(p.timeMs);
      const key = `${p.thingId}\u0000${p.name}`;
      let s = series.get(key);
      if (!s) {
        s = { state: initialSeriesState(), timer: null, thingId: p.thingId, name: p.name };
        series.set(key, s);
      }
      apply(
        s,
        evaluateReading(rule, s.state, {
          thingId: p.thingId,
          channelId: p.channelId,
          name: p.name,
          value,
          timeMs: p.timeMs,
        }),
      );
    }
  }
  fireUntil(to.getTime() - 1);
  return {
    alerts: [...alerts.values()].sort((a, b) => a.raisedAt.getTime() - b.raisedAt.getTime()),
    readings,
  };
}
