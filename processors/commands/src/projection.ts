import { defineProcessor, PgCheckpoint, type ProcessorDefinition } from '@telly/runtime';
import { commandsFilter, decodeEvent, type EventOf, eventFilter, STREAMS } from '@telly/schemas';
import type pg from 'pg';

export type CommandStatus = 'pending' | 'delivered' | 'succeeded' | 'failed' | 'expired';

/** Statuses only move forward; events from two streams may arrive in either order. */
const RANK: Record<CommandStatus, number> = { pending: 0, delivered: 1, succeeded: 2, failed: 2, expired: 2 };

type CommandEvent = EventOf<
  'command.requested' | 'command.delivered' | 'command.succeeded' | 'command.failed' | 'command.expired'
>;

async function apply(db: pg.PoolClient, event: CommandEvent): Promise<void> {
  const { commandId, thingId } = event.data;
  const base = [commandId, event.tenantId, thingId];
  if (event.type === 'command.requested') {
    await db.query(
      `INSERT INTO commands (id, tenant_id, thing_id, name, payload, status, requested_at, requested_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, payload = EXCLUDED.payload,
         requested_at = EXCLUDED.requested_at, requested_by = EXCLUDED.requested_by, expires_at = EXCLUDED.expires_at`,
      [
        ...base,
        event.data.name,
        JSON.stringify(event.data.payload),
        event.time,
        event.actor ?? null,
        event.data.expiresAt,
      ],
    );
    return;
  }
  const status = event.type.slice('command.'.length) as CommandStatus;
  const delivered = event.type === 'command.delivered' ? event.time : null;
  const completed = event.type === 'command.delivered' ? null : event.time;
  const result =
    event.type === 'command.succeeded' && event.data.result !== undefined
      ? JSON.stringify(event.data.result)
      : null;
  const reason = event.type === 'command.failed' ? event.data.reason : null;
  await db.query(
    `INSERT INTO commands AS c (id, tenant_id, thing_id, status, delivered_at, completed_at, result, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET
       status = CASE WHEN $9 > (CASE c.status WHEN 'pending' THEN 0 WHEN 'delivered' THEN 1 ELSE 2 END)
                     THEN EXCLUDED.status ELSE c.status END,
       delivered_at = COALESCE(c.delivered_at, EXCLUDED.delivered_at),
       completed_at = COALESCE(c.completed_at, EXCLUDED.completed_at),
       result = COALESCE(c.result, EXCLUDED.result),
       reason = COALESCE(c.reason, EXCLUDED.reason)`,
    [...base, status, delivered, completed, result, reason, RANK[status]],
  );
}

function projection(
  pool: pg.Pool,
  name: string,
  stream: string,
  filter: string[],
): ProcessorDefinition & {
  checkpoint: PgCheckpoint;
} {
  const checkpoint = new PgCheckpoint(pool, name);
  const definition = defineProcessor({
    name,
    stream,
    filter,
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      await checkpoint.apply(messages, async (client, fresh) => {
        for (const message of fresh) await apply(client, decodeEvent(message.data) as CommandEvent);
      });
    },
  });
  return { ...definition, checkpoint };
}

/** command.requested from COMMANDS. */
export const requestedProjection = (pool: pg.Pool) =>
  projection(pool, 'commands-requested', STREAMS.COMMANDS.name, [commandsFilter()]);

/** delivered / succeeded / failed / expired from EVENTS. */
export const statusProjection = (pool: pg.Pool) =>
  projection(pool, 'commands-status', STREAMS.EVENTS.name, [eventFilter({ type: 'command' })]);
