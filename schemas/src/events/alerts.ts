import Type from 'typebox';
import { data, defineEvent, Id } from './common.ts';

/**
 * Alerts raised and resolved by the rules processor, on `evt.<tenant>.alert.<thing>`.
 * At most one alert is open per (ruleId, thingId, name); `alertId` names it in every event of
 * its life (raised → acknowledged → resolved or cleared), and is derived from the rule, the
 * thing, the measurement and the time of the reading that raised it, so a redelivered reading
 * raises the same alert id (and JetStream keeps one copy).
 */

/** Alert severities, most severe first (ThingsBoard's scale). */
export const ALERT_SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** A SenML value: number (`v`), string (`vs`) or boolean (`vb`). */
const MeasuredValue = Type.Union([Type.Number(), Type.String(), Type.Boolean()]);

const AlertData = data({
  alertId: Id,
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

const AlertRef = {
  alertId: Id,
  ruleId: Id,
  thingId: Id,
  name: Type.String({ minLength: 1, maxLength: 256 }),
};
const Note = Type.String({ maxLength: 1024 });

export const AlertAcknowledged = defineEvent(
  'alert.acknowledged',
  1,
  data({ ...AlertRef, note: Type.Optional(Note) }),
  'A user acknowledged an open alert (the actor), optionally with a note.',
);

export const AlertCleared = defineEvent(
  'alert.cleared',
  1,
  data({ ...AlertRef, note: Type.Optional(Note) }),
  'A user closed an open alert by hand, whether or not its condition still holds.',
);

/** The transitions that notify. */
export const ALERT_TRANSITIONS = ['raised', 'resolved'] as const;
const Notification = {
  ...AlertRef,
  transition: Type.Enum(ALERT_TRANSITIONS),
  /** Index of the action in the rule's `actions`. */
  action: Type.Integer({ minimum: 0, maximum: 63 }),
  kind: Type.Enum(['email', 'command', 'webhook'] as const),
  attempts: Type.Integer({ minimum: 1 }),
};

export const AlertNotified = defineEvent(
  'alert.notified',
  1,
  data({
    ...Notification,
    /** The e-mail's Message-ID, the command id, or the webhook's HTTP status. */
    ref: Type.Optional(Type.String({ maxLength: 998 })),
  }),
  "One action of an alert's transition was carried out (mail accepted, command sent, webhook answered 2xx).",
);

export const AlertNotificationFailed = defineEvent(
  'alert.notification-failed',
  1,
  data({ ...Notification, error: Type.String({ minLength: 1, maxLength: 1024 }), final: Type.Boolean() }),
  'An action of a transition failed; it is retried with backoff unless `final`.',
);

/** Alert event schemas by type. */
export const ALERT_EVENTS = {
  'alert.raised': AlertRaised,
  'alert.resolved': AlertResolved,
  'alert.acknowledged': AlertAcknowledged,
  'alert.cleared': AlertCleared,
  'alert.notified': AlertNotified,
  'alert.notification-failed': AlertNotificationFailed,
} as const;
