import Type from 'typebox';
import { data, defineEvent, Id } from './common.ts';

/**
 * Alerts raised and resolved by the rules processor, on `evt.<tenant>.alert.<thing>`.
 * An alert is identified by (ruleId, thingId, name): at most one is open per triple, and
 * `alert.resolved` closes the open one.
 */

/** Alert severities, most severe first (ThingsBoard's scale). */
export const ALERT_SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** A SenML value: number (`v`), string (`vs`) or boolean (`vb`). */
const MeasuredValue = Type.Union([Type.Number(), Type.String(), Type.Boolean()]);

const AlertData = data({
  ruleId: Id,
  thingId: Id,
  channelId: Id,
  /** The measurement (SenML resolved name) the rule watches. */
  name: Type.String({ minLength: 1, maxLength: 256 }),
  /** Absent for rules that compare no value (e.g. "no data for 10 minutes"). */
  value: Type.Optional(MeasuredValue),
  threshold: Type.Optional(MeasuredValue),
  severity: Type.Enum(ALERT_SEVERITIES),
  message: Type.String({ maxLength: 1024 }),
});

export const AlertRaised = defineEvent(
  'alert.raised',
  1,
  AlertData,
  'A rule condition became true for a thing.',
);

export const AlertResolved = defineEvent(
  'alert.resolved',
  1,
  AlertData,
  'A rule condition that had raised an alert is no longer true.',
);

/** Alert event schemas by type. */
export const ALERT_EVENTS = {
  'alert.raised': AlertRaised,
  'alert.resolved': AlertResolved,
} as const;
