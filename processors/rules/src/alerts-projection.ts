import { defineProcessor, PgCheckpoint, type ProcessorDefinition } from '@telly/runtime';
import { decodeEvent, type EventOf, eventFilter, type RuleDefinition, STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { toRule } from './domain/validate.ts';

export const RULES_ALERTS = 'rules-alerts';

type AlertEvent = EventOf<
  | 'alert.raised'
  | 'alert.resolved'
  | 'alert.acknowledged'
  | 'alert.cleared'
  | 'alert.notified'
  | 'alert.notification-failed'
>;

/**
 * Queues the actions of a transition (one row per action, keyed by alert, transition and
 * action index, so a redelivered event queues nothing twice). A rule's cooldown is the least
 * time between two notified alerts of the rule for one thing: an alert raised within it of the
 * last alert whose actions ran has its actions recorded as `suppressed`, and so has its resolve.
 * A command runs on the one transition it names (`on`, the raise by default): a resolve must
 * not send "pump on" a second time (a timed command reverts itself), but may send "pump off".
 */
async function queueActions(
  db: pg.PoolClient,
  event: EventOf<'alert.raised' | 'alert.resolved'>,
  transition: 'raised' | 'resolved',
): Promise<void> {
  const { rows } = await db.query<{ enabled: boolean; definition: RuleDefinition }>(
    'SELECT enabled, definition FROM rules WHERE id = $1 AND tenant_id = $2',
    [event.data.ruleId, event.tenantId],
  );
  const row = rows[0];
  if (!row || row.definition.actions.length === 0) return;
  const rule = toRule(event.data.ruleId, event.tenantId, row.enabled, row.definition);
  const suppressed =
    transition === 'raised'
      ? rule.cooldownMs > 0 && (await notifiedWithin(db, event, rule.cooldownMs))
      : await raiseSuppressed(db, event.data.alertId);
  await db.query(
    `INSERT INTO alert_actions (alert_id, transition, action, tenant_id, rule_id, thing_id, kind, spec, status, next_at, updated_at)
     SELECT $1, $2, a.ordinality - 1, $3, $4, $5, a.spec->>'kind', a.spec, $6, now(), now()
     FROM jsonb_array_elements($7::jsonb) WITH ORDINALITY AS a(spec, ordinality)
     WHERE a.spec->>'kind' <> 'command' OR $2 = COALESCE(a.spec->>'on', 'raised')
     ON CONFLICT DO NOTHING`,
    [
      event.data.alertId,
      transition,
      event.tenantId,
      event.data.ruleId,
      event.data.thingId,
      suppressed ? 'suppressed' : 'pending',
      JSON.stringify(rule.def.actions),
    ],
  );
}

/** Whether another alert of the rule and thing was raised, and notified, within `cooldownMs` before `event`'s. */
async function notifiedWithin(
  db: pg.PoolClient,
  event: EventOf<'alert.raised' | 'alert.resolved'>,
  cooldownMs: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM alerts a WHERE a.tenant_id = $6 AND a.thing_id = $2 AND a.rule_id = $1 AND a.id <> $3
       AND a.raised_at > $4::timestamptz - make_interval(secs => $5) AND a.raised_at <= $4::timestamptz
       AND EXISTS (SELECT 1 FROM alert_actions x
                   WHERE x.alert_id = a.id AND x.transition = 'raised' AND x.status <> 'suppressed')
     LIMIT 1`,
    [
      event.data.ruleId,
      event.data.thingId,
      event.data.alertId,
      event.time,
      cooldownMs / 1000,
      event.tenantId,
    ],
  );
  return (rowCount ?? 0) > 0;
}

/** A resolve follows its raise: no "resolved" notice of an alert whose raise was held back. */
async function raiseSuppressed(db: pg.PoolClient, alertId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM alert_actions WHERE alert_id = $1 AND transition = 'raised' AND status = 'suppressed' LIMIT 1`,
    [alertId],
  );
  return (rowCount ?? 0) > 0;
}

async function apply(db: pg.PoolClient, event: AlertEvent, seq: number): Promise<boolean> {
  const d = event.data;
  switch (event.type) {
    case 'alert.raised': {
      const inserted = await db.query(
        `INSERT INTO alerts (id, tenant_id, rule_id, thing_id, channel_id, measurement, severity, status, value, threshold, message, raised_at, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
        [
          d.alertId,
          event.tenantId,
          d.ruleId,
          d.thingId,
          event.data.channelId,
          d.name,
          event.data.severity,
          event.data.value === undefined ? null : JSON.stringify(event.data.value),
          event.data.threshold === undefined ? null : JSON.stringify(event.data.threshold),
          event.data.message,
          event.time,
          seq,
        ],
      );
      if (inserted.rowCount) await queueActions(db, event, 'raised');
      return Boolean(inserted.rowCount);
    }
    case 'alert.resolved': {
      const { rows } = await db.query<{ was: string }>(
        `UPDATE alerts a SET status = CASE WHEN o.status IN ('open', 'acknowledged') THEN 'resolved' ELSE o.status END,
           resolved_at = COALESCE(a.resolved_at, $3), seq = $4
         FROM (SELECT id, status FROM alerts WHERE id = $1 AND tenant_id = $2 FOR UPDATE) o
         WHERE a.id = o.id AND a.resolved_at IS NULL
         RETURNING o.status AS was`,
        [d.alertId, event.tenantId, event.time, seq],
      );
      const was = rows[0]?.was;
      if (was === 'open' || was === 'acknowledged') await queueActions(db, event, 'resolved');
      return rows.length > 0;
    }
    case 'alert.acknowledged': {
      const r = await db.query(
        `UPDATE alerts SET status = 'acknowledged', acknowledged_at = $3, acknowledged_by = $4, note = $5, seq = $6
         WHERE id = $1 AND tenant_id = $2 AND status = 'open'`,
        [d.alertId, event.tenantId, event.time, event.actor ?? null, event.data.note ?? null, seq],
      );
      return Boolean(r.rowCount);
    }
    case 'alert.cleared': {
      const r = await db.query(
        `UPDATE alerts SET status = 'cleared', cleared_at = $3, note = COALESCE($4, note), seq = $5
         WHERE id = $1 AND tenant_id = $2 AND status IN ('open', 'acknowledged')`,
        [d.alertId, event.tenantId, event.time, event.data.note ?? null, seq],
      );
      return Boolean(r.rowCount);
    }
    case 'alert.notified':
    case 'alert.notification-failed': {
      const sent = event.type === 'alert.notified';
      await db.query(
        `UPDATE alert_actions SET
           status = CASE WHEN status = 'sent' THEN status WHEN $5 THEN 'sent' WHEN $6 THEN 'failed' ELSE 'retrying' END,
           attempts = GREATEST(attempts, $7), ref = COALESCE($8, ref),
           last_error = CASE WHEN $5 THEN last_error ELSE $9 END, updated_at = $10
         WHERE alert_id = $1 AND transition = $2 AND action = $3 AND tenant_id = $4`,
        [
          d.alertId,
          event.data.transition,
          event.data.action,
          event.tenantId,
          sent,
          !sent && event.type === 'alert.notification-failed' && event.data.final,
          event.data.attempts,
          event.type === 'alert.notified' ? (event.data.ref ?? null) : null,
          event.type === 'alert.notification-failed' ? event.data.error : null,
          event.time,
        ],
      );
      return true;
    }
  }
}

/** `evt.*.alert.*` into `alerts`, queuing each transition's actions in the same transaction. */
export function alertsProjection(
  pool: pg.Pool,
  afterCommit: (changed: { tenantId: string; alertId: string; thingId: string }[]) => void,
): ProcessorDefinition & { checkpoint: PgCheckpoint } {
  const checkpoint = new PgCheckpoint(pool, RULES_ALERTS);
  const definition = defineProcessor({
    name: RULES_ALERTS,
    stream: STREAMS.EVENTS.name,
    filter: [eventFilter({ type: 'alert' })],
    // in log order, one instance at a time: an alert's resolve applied by one instance before
    // another had inserted its raise found no row and was lost (the cluster fault test saw it)
    ordered: true,
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      const changed: { tenantId: string; alertId: string; thingId: string }[] = [];
      await checkpoint.apply(messages, async (client, fresh) => {
        for (const message of fresh) {
          const event = decodeEvent(message.data) as AlertEvent;
          if (await apply(client, event, message.seq)) {
            changed.push({
              tenantId: event.tenantId,
              alertId: event.data.alertId,
              thingId: event.data.thingId,
            });
          }
        }
      });
      if (changed.length > 0) afterCommit(changed);
    },
  });
  return { ...definition, checkpoint };
}
