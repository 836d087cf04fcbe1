import { type LogEntry, pointsOf } from '@telly/schemas';
import { evaluateReading, evaluateTimer } from './domain/evaluate.ts';
import { inScope, type ThingMetadataLookup } from './domain/scope.ts';
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

/** The alerts a backtest keeps: enough to judge a rule, bounded so a noisy one cannot fill memory. */
export const MAX_BACKTEST_ALERTS = 10_000;

export interface BacktestOptions {
  from: Date;
  to: Date;
  /** Alerts kept; those raised after are counted, not kept. @default MAX_BACKTEST_ALERTS */
  maxAlerts?: number;
  /**
   * The things' metadata a rule scoped by `thingMetadata` matches (`RuleQueries.thingMetadata`).
   * @default no thing's: such a rule matches nothing
   */
  thingMetadata?: ThingMetadataLookup;
}

const NO_METADATA: ThingMetadataLookup = () => undefined;

export interface BacktestResult {
  /** In the order they were raised: the first `maxAlerts`. */
  alerts: BacktestAlert[];
  /** Alerts raised, kept or not. */
  raised: number;
  /** Readings of the rule's measurement evaluated. */
  readings: number;
  /** Log entries read. */
  entries: number;
}

interface Series {
  state: SeriesState;
  timer: number | null;
  thingId: string;
  name: string;
}

/**
 * A rule run over log entries, fed in log order (pure: nothing is written, mailed or sent),
 * exactly as the live evaluator folds them, firing its timers in event time: before a reading,
 * the timers due by its time; at the end, those due by `to`. Readings outside [from, to) are
 * not evaluated. Holds one state per series, never the entries. A rule scoped by
 * `thingMetadata` watches the things whose metadata matches as `thingMetadata` tells (now).
 */
export class Backtest {
  readonly #rule: Rule;
  readonly #fromMs: number;
  readonly #toMs: number;
  readonly #maxAlerts: number;
  readonly #thingMetadata: ThingMetadataLookup;
  readonly #series = new Map<string, Series>();
  readonly #alerts = new Map<string, BacktestAlert>();
  #raised = 0;
  #readings = 0;
  #entries = 0;

  constructor(
    rule: Rule,
    { from, to, maxAlerts = MAX_BACKTEST_ALERTS, thingMetadata = NO_METADATA }: BacktestOptions,
  ) {
    this.#thingMetadata = thingMetadata;
    this.#rule = rule;
    this.#fromMs = from.getTime();
    this.#toMs = to.getTime();
    this.#maxAlerts = maxAlerts;
  }

  feed(entry: LogEntry): void {
    this.#entries++;
    let points: ReturnType<typeof pointsOf>;
    try {
      points = pointsOf(entry);
    } catch {
      return; // not telemetry, or not decodable: no readings
    }
    for (const p of points) {
      if (p.name !== this.#rule.def.measurement || !inScope(this.#rule, p, this.#thingMetadata)) continue;
      if (p.timeMs < this.#fromMs || p.timeMs >= this.#toMs) continue;
      const value = p.value ?? p.stringValue ?? p.boolValue;
      if (value === undefined) continue;
      this.#readings++;
      this.#fireUntil(p.timeMs);
      const key = `${p.thingId}\u0000${p.name}`;
      let s = this.#series.get(key);
      if (!s) {
        s = { state: initialSeriesState(), timer: null, thingId: p.thingId, name: p.name };
        this.#series.set(key, s);
      }
      this.#apply(
        s,
        evaluateReading(this.#rule, s.state, {
          thingId: p.thingId,
          channelId: p.channelId,
          name: p.name,
          value,
          timeMs: p.timeMs,
        }),
      );
    }
  }

  /** Fires the timers due by `to`; the result. */
  finish(): BacktestResult {
    this.#fireUntil(this.#toMs - 1);
    return {
      alerts: [...this.#alerts.values()].sort((a, b) => a.raisedAt.getTime() - b.raisedAt.getTime()),
      raised: this.#raised,
      readings: this.#readings,
      entries: this.#entries,
    };
  }

  #apply(s: Series, result: ReturnType<typeof evaluateReading>): void {
    if (!result) return;
    s.state = result.state;
    s.timer = result.timer;
    for (const t of result.transitions) {
      if (t.kind === 'raised') {
        this.#raised++;
        if (this.#alerts.size >= this.#maxAlerts) continue;
        this.#alerts.set(t.alertId, {
          alertId: t.alertId,
          thingId: s.thingId,
          name: s.name,
          value: t.value,
          raisedAt: new Date(t.timeMs),
          resolvedAt: null,
        });
      } else {
        const a = this.#alerts.get(t.alertId);
        if (a) a.resolvedAt = new Date(t.timeMs);
      }
    }
  }

  #fireUntil(ms: number): void {
    for (const s of this.#series.values()) {
      if (s.timer !== null && s.timer <= ms) {
        const due = s.timer;
        s.timer = null;
        this.#apply(s, evaluateTimer(this.#rule, s.state, s, due));
      }
    }
  }
}
