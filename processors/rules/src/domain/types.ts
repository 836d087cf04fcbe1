import type { AlertSeverity, RuleDefinition } from '@telly/schemas';

/** A rule as the evaluator uses it: its definition with the durations parsed once. */
export interface Rule {
  id: string;
  tenantId: string;
  enabled: boolean;
  def: RuleDefinition;
  /** `condition.for` in ms (0: at once). For `no_data`, the silence that raises. */
  forMs: number;
  /** `condition.window` in ms (0: no window). */
  windowMs: number;
  /** `cooldown` in ms (0: none). */
  cooldownMs: number;
}

/** A value a device sent: SenML `v`, `vs` or `vb`. */
export type MeasuredValue = number | string | boolean;

/** One reading of one measurement of one thing, at its event time. */
export interface Reading {
  thingId: string;
  channelId: string;
  name: string;
  value: MeasuredValue;
  timeMs: number;
}

/**
 * What the evaluator keeps per (rule, thing, measurement) between readings; stored as JSON
 * beside the processor's checkpoint.
 */
export interface SeriesState {
  /** Whether the (raise) condition held at the last reading. */
  holds: boolean;
  /** Event time since which it has held continuously. */
  since: number | null;
  /** The open alert, if one is. */
  openAlertId: string | null;
  /** Event time of the last reading evaluated (older readings are not evaluated). */
  lastTime: number | null;
  /** The channel the thing last spoke on. */
  channelId: string | null;
  /** The last value compared (what a timer's alert reports). */
  lastValue: MeasuredValue | null;
  /** Readings inside the window, oldest first, for `rate` / `avg` / `min` / `max`. */
  samples: [number, number][];
}

export const initialSeriesState = (): SeriesState => ({
  holds: false,
  since: null,
  openAlertId: null,
  lastTime: null,
  channelId: null,
  lastValue: null,
  samples: [],
});

/** An alert transition the evaluator decided on. */
export interface AlertTransition {
  kind: 'raised' | 'resolved';
  alertId: string;
  /** Event time of the transition: of the reading, or when the duration had passed. */
  timeMs: number;
  value?: MeasuredValue | undefined;
  severity: AlertSeverity;
}

/** What evaluating a reading or a timer produced. */
export interface Evaluation {
  state: SeriesState;
  transitions: AlertTransition[];
  /** The durable timer of the series afterwards: due (event time, ms) or none. */
  timer: number | null;
}
