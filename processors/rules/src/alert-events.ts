import { createEvent, type EventOf } from '@telly/schemas';
import { alertEventId } from './domain/ids.ts';
import { renderMessage } from './domain/template.ts';
import type { AlertTransition, Rule } from './domain/types.ts';

export type AlertTransitionEvent = EventOf<'alert.raised' | 'alert.resolved'>;

/**
 * The event of a transition, with an id determined by it (`alert.raised`'s id is the alert
 * id), and the time of the reading (or of the moment the duration passed) as its time.
 */
export function transitionEvent(
  rule: Rule,
  series: { thingId: string; name: string; channelId: string },
  t: AlertTransition,
): AlertTransitionEvent {
  const threshold = rule.def.condition.value;
  const data = {
    alertId: t.alertId,
    ruleId: rule.id,
    thingId: series.thingId,
    channelId: series.channelId,
    name: series.name,
    ...(t.value !== undefined ? { value: typeof t.value === 'number' ? round(t.value) : t.value } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    severity: t.severity,
    message: renderMessage(rule.def.message, {
      thing: series.thingId,
      name: series.name,
      value: t.value,
      threshold,
    }),
  };
  const id = t.kind === 'raised' ? t.alertId : alertEventId(t.alertId, 'resolved', t.timeMs);
  const type = t.kind === 'raised' ? 'alert.raised' : 'alert.resolved';
  return createEvent(type, { tenantId: rule.tenantId, actor: 'system', data }, { id, now: t.timeMs });
}

/** Aggregates (averages, rates) keep 6 significant digits, so a replay prints what the first pass did. */
const round = (v: number) => (Number.isInteger(v) ? v : Number(v.toPrecision(6)));
