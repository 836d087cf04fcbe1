import { defineProcessor, PgCheckpoint, type ProcessorDefinition } from '@telly/runtime';
import { decodeEvent, type EventOf, registryKindFilter, STREAMS } from '@telly/schemas';
import type pg from 'pg';

export const RULES_THINGS = 'rules-things';

type ThingEvent = EventOf<'thing.created' | 'thing.updated' | 'thing.deleted' | 'tenant.deleted'>;

async function apply(db: pg.PoolClient, event: ThingEvent, seq: number): Promise<void> {
  switch (event.type) {
    case 'thing.created':
      await db.query(
        `INSERT INTO rule_things AS t (thing_id, tenant_id, metadata, seq) VALUES ($1, $2, $3, $4)
         ON CONFLICT (thing_id) DO UPDATE SET metadata = EXCLUDED.metadata, seq = EXCLUDED.seq
         WHERE t.tenant_id = EXCLUDED.tenant_id`,
        [event.data.thingId, event.tenantId, JSON.stringify(event.data.metadata), seq],
      );
      return;
    case 'thing.updated':
      if (event.data.metadata === undefined) return; // renamed only
      await db.query(
        'UPDATE rule_things SET metadata = $3, seq = $4 WHERE thing_id = $1 AND tenant_id = $2 AND metadata IS NOT NULL',
        [event.data.thingId, event.tenantId, JSON.stringify(event.data.metadata), seq],
      );
      return;
    case 'thing.deleted':
      await db.query(
        'UPDATE rule_things SET metadata = NULL, seq = $3 WHERE thing_id = $1 AND tenant_id = $2',
        [event.data.thingId, event.tenantId, seq],
      );
      return;
    case 'tenant.deleted':
      await db.query(
        'UPDATE rule_things SET metadata = NULL, seq = $2 WHERE tenant_id = $1 AND metadata IS NOT NULL',
        [event.tenantId, seq],
      );
  }
}

/**
 * `reg.*.thing.*` (and tenant deletions) into `rule_things`: each thing's current metadata,
 * which rules scoped by `thingMetadata` match against. `ordered`, so rows are committed in
 * stream order and `ThingMetadataCache` can follow them by `seq` alone.
 */
export function thingsProjection(pool: pg.Pool): ProcessorDefinition & { checkpoint: PgCheckpoint } {
  const checkpoint = new PgCheckpoint(pool, RULES_THINGS);
  const definition = defineProcessor({
    name: RULES_THINGS,
    stream: STREAMS.REGISTRY.name,
    filter: [registryKindFilter('thing'), registryKindFilter('tenant')],
    ordered: true,
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      await checkpoint.apply(messages, async (client, fresh) => {
        for (const message of fresh) {
          await apply(client, decodeEvent(message.data) as ThingEvent, message.seq);
        }
      });
    },
  });
  return { ...definition, checkpoint };
}
