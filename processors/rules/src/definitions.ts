import { defineProcessor, PgCheckpoint, type ProcessorDefinition } from '@telly/runtime';
import { decodeEvent, type EventOf, registryKindFilter, STREAMS } from '@telly/schemas';
import type pg from 'pg';

export const RULES_DEFINITIONS = 'rules-definitions';

type RuleEvent = EventOf<'rule.created' | 'rule.updated' | 'rule.enabled' | 'rule.disabled' | 'rule.deleted'>;

/** Forgets what was evaluated under a rule's old definition (and its timers). Open alerts stay. */
async function resetSeries(db: pg.PoolClient, ruleId: string): Promise<void> {
  // timers first: the order the evaluator and the timers lock in
  await db.query('DELETE FROM rule_timers WHERE rule_id = $1', [ruleId]);
  await db.query('DELETE FROM rule_series WHERE rule_id = $1', [ruleId]);
}

async function apply(db: pg.PoolClient, event: RuleEvent, seq: number): Promise<void> {
  const { ruleId } = event.data;
  switch (event.type) {
    case 'rule.created':
    case 'rule.updated': {
      const { ruleId: _, ...rest } = event.data;
      const { enabled, ...def } = rest as typeof rest & { enabled?: boolean };
      await db.query(
        `INSERT INTO rules AS r (id, tenant_id, name, thing_id, channel_id, measurement, definition, enabled, created_at, updated_at, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, true), $9, $9, $10)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, thing_id = EXCLUDED.thing_id,
           channel_id = EXCLUDED.channel_id, measurement = EXCLUDED.measurement, definition = EXCLUDED.definition,
           enabled = COALESCE($8, r.enabled), updated_at = EXCLUDED.updated_at, seq = EXCLUDED.seq
         WHERE r.tenant_id = EXCLUDED.tenant_id`,
        [
          ruleId,
          event.tenantId,
          def.name,
          def.thingId ?? null,
          def.channelId ?? null,
          def.measurement,
          JSON.stringify(def),
          enabled ?? null,
          event.time,
          seq,
        ],
      );
      if (event.type === 'rule.updated') await resetSeries(db, ruleId);
      return;
    }
    case 'rule.enabled':
    case 'rule.disabled':
      await db.query(
        'UPDATE rules SET enabled = $3, updated_at = $4, seq = $5 WHERE id = $1 AND tenant_id = $2',
        [ruleId, event.tenantId, event.type === 'rule.enabled', event.time, seq],
      );
      if (event.type === 'rule.disabled') await resetSeries(db, ruleId);
      return;
    case 'rule.deleted':
      await db.query('DELETE FROM rules WHERE id = $1 AND tenant_id = $2', [ruleId, event.tenantId]);
      await db.query('DELETE FROM rule_webhook_secrets WHERE rule_id = $1', [ruleId]);
      await resetSeries(db, ruleId);
  }
}

/** `reg.*.rule.*` into the `rules` table; the API waits for it to read its own writes. */
export function definitionsProjection(pool: pg.Pool): ProcessorDefinition & { checkpoint: PgCheckpoint } {
  const checkpoint = new PgCheckpoint(pool, RULES_DEFINITIONS);
  const definition = defineProcessor({
    name: RULES_DEFINITIONS,
    stream: STREAMS.REGISTRY.name,
    filter: [registryKindFilter('rule')],
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      await checkpoint.apply(messages, async (client, fresh) => {
        for (const message of fresh) await apply(client, decodeEvent(message.data) as RuleEvent, message.seq);
        // every commit, in whatever order instances commit: the rule caches read the rules again
        await client.query('UPDATE rules_version SET version = version + 1');
      });
    },
  });
  return { ...definition, checkpoint };
}
