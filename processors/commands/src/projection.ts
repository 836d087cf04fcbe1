import {
  defineProcessor,
  PgCheckpoint,
  type ProcessorDefinition,
  type ProcessorMessage,
} from '@telly/runtime';
import {
  commandsFilter,
  decodeEvent,
  EVENT_TYPE_HEADER,
  type EventOf,
  eventFilter,
  STREAMS,
  scheduledCommandsFilter,
} from '@telly/schemas';
import type pg from 'pg';
import { Counter, type Registry } from 'prom-client';
import { REVERT_OF_HEADER, SCHEDULE_HEADER } from './request.ts';

export type CommandStatus =
  | 'scheduled'
  | 'pending'
  | 'delivered'
  | 'succeeded'
  | 'failed'
  | 'expired'
  | 'cancelled';

/** Statuses only move forward; events from two streams may arrive in either order. */
const RANK: Record<CommandStatus, number> = {
  scheduled: -1,
  pending: 0,
  delivered: 1,
  succeeded: 2,
  failed: 2,
  expired: 2,
  cancelled: 2,
};

type CommandEvent = EventOf<
  | 'command.requested'
  | 'command.delivered'
  | 'command.succeeded'
  | 'command.failed'
  | 'command.expired'
  | 'command.cancelled'
>;

/** What a command's log entry says beside its event: the schedule that sent it, or that holds it. */
interface EntryContext {
  seq: number;
  /** `Telly-Revert-Of`: the timed command this one reverts. */
  revertOf: string | null;
  /** From the schedule's `@at` (only on a schedule entry). */
  scheduledFor: string | null;
  /** On a schedule entry (`cmd.<tenant>.<thing>.scheduled.<id>`), not on the command it sends. */
  isSchedule: boolean;
}

function entryContext(message: ProcessorMessage): EntryContext {
  const schedule = message.headers?.get(SCHEDULE_HEADER) ?? '';
  const at = schedule.startsWith('@at ') ? new Date(schedule.slice(4)) : null;
  return {
    seq: message.seq,
    revertOf: message.headers?.get(REVERT_OF_HEADER) || null,
    scheduledFor: at && !Number.isNaN(at.getTime()) ? at.toISOString() : null,
    isSchedule:
      message.headers?.has(SCHEDULE_HEADER) === true ||
      message.headers?.get(EVENT_TYPE_HEADER) === 'command.cancelled',
  };
}

/** What {@link apply} did with an event. */
type Applied = 'applied' | 'foreign-result-ignored' | 'foreign-result-discarded';

/**
 * A command belongs to the thing and tenant its `command.requested` names. A status event of
 * another thing or tenant for the same command id (a device posting a result for a command it
 * was not sent) never changes it: ignored when the command is known, and discarded when the
 * request arrives after it (events of two streams arrive in either order).
 */
async function apply(db: pg.PoolClient, event: CommandEvent, entry: EntryContext): Promise<Applied> {
  const { commandId, thingId } = event.data;
  const base = [commandId, event.tenantId, thingId];
  if (event.type === 'command.requested' && entry.isSchedule) {
    // a command waiting in its schedule; the command the schedule sends comes by `cmd.<t>.<thing>`.
    // Its row may exist already: the command sent (status kept), or its cancellation applied first
    // (a redelivery after it): the status stays, the details the cancellation lacks are filled in
    const { rowCount } = await db.query(
      `INSERT INTO commands AS c (id, tenant_id, thing_id, name, payload, status, requested_at, requested_by, expires_at,
                                  revert_of, scheduled_for, schedule_seq)
       VALUES ($1, $2, $3, $4, $5, 'scheduled', $6, $7, $8, $9, $10, $11)
       ON CONFLICT (id) DO UPDATE SET revert_of = EXCLUDED.revert_of, scheduled_for = EXCLUDED.scheduled_for,
         schedule_seq = EXCLUDED.schedule_seq, name = COALESCE(c.name, EXCLUDED.name),
         payload = COALESCE(c.payload, EXCLUDED.payload), requested_at = COALESCE(c.requested_at, EXCLUDED.requested_at),
         requested_by = COALESCE(c.requested_by, EXCLUDED.requested_by),
         expires_at = COALESCE(c.expires_at, EXCLUDED.expires_at)
       WHERE c.tenant_id = EXCLUDED.tenant_id AND c.thing_id = EXCLUDED.thing_id`,
      [
        ...base,
        event.data.name,
        JSON.stringify(event.data.payload),
        event.time,
        event.actor ?? null,
        event.data.expiresAt,
        entry.revertOf,
        entry.scheduledFor,
        entry.seq,
      ],
    );
    return rowCount ? 'applied' : 'foreign-result-ignored';
  }
  if (event.type === 'command.cancelled') {
    // the cancellation replaced the schedule on its subject, so it can come first: a redelivered
    // schedule entry applied after it finds the command cancelled, and keeps it so
    await db.query(
      `INSERT INTO commands AS c (id, tenant_id, thing_id, status, completed_at)
       VALUES ($1, $2, $3, 'cancelled', $4)
       ON CONFLICT (id) DO UPDATE SET status = 'cancelled', completed_at = EXCLUDED.completed_at
       WHERE c.tenant_id = EXCLUDED.tenant_id AND c.thing_id = EXCLUDED.thing_id AND c.status = 'scheduled'`,
      [...base, event.time],
    );
    return 'applied';
  }
  if (event.type === 'command.requested') {
    const foreign = await db.query(
      'DELETE FROM commands WHERE id = $1 AND (tenant_id <> $2 OR thing_id <> $3)',
      base,
    );
    await db.query(
      `INSERT INTO commands AS c (id, tenant_id, thing_id, name, payload, status, requested_at, requested_by, expires_at, revert_of)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, payload = EXCLUDED.payload,
         requested_at = EXCLUDED.requested_at, requested_by = EXCLUDED.requested_by, expires_at = EXCLUDED.expires_at,
         revert_of = COALESCE(c.revert_of, EXCLUDED.revert_of),
         status = CASE WHEN c.status = 'scheduled' THEN 'pending' ELSE c.status END`,
      [
        ...base,
        event.data.name,
        JSON.stringify(event.data.payload),
        event.time,
        event.actor ?? null,
        event.data.expiresAt,
        entry.revertOf,
      ],
    );
    return foreign.rowCount ? 'foreign-result-discarded' : 'applied';
  }
  const status = event.type.slice('command.'.length) as CommandStatus;
  const delivered = event.type === 'command.delivered' ? event.time : null;
  const completed = event.type === 'command.delivered' ? null : event.time;
  const result =
    event.type === 'command.succeeded' && event.data.result !== undefined
      ? JSON.stringify(event.data.result)
      : null;
  const reason = event.type === 'command.failed' ? event.data.reason : null;
  const { rowCount } = await db.query(
    `INSERT INTO commands AS c (id, tenant_id, thing_id, status, delivered_at, completed_at, result, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET
       status = CASE WHEN $9 > (CASE c.status WHEN 'scheduled' THEN -1 WHEN 'pending' THEN 0 WHEN 'delivered' THEN 1 ELSE 2 END)
                     THEN EXCLUDED.status ELSE c.status END,
       delivered_at = COALESCE(c.delivered_at, EXCLUDED.delivered_at),
       completed_at = COALESCE(c.completed_at, EXCLUDED.completed_at),
       result = COALESCE(c.result, EXCLUDED.result),
       reason = COALESCE(c.reason, EXCLUDED.reason)
     WHERE c.tenant_id = EXCLUDED.tenant_id AND c.thing_id = EXCLUDED.thing_id`,
    [...base, status, delivered, completed, result, reason, RANK[status]],
  );
  return rowCount ? 'applied' : 'foreign-result-ignored';
}

export interface CommandProjectionOptions {
  /** Counts the status events refused for naming another thing or tenant than the command's. */
  metrics?: Registry | undefined;
}

const FOREIGN_RESULTS_METRIC = 'telly_command_foreign_results_total';

function foreignResults(metrics: Registry | undefined): Counter<'projection'> | undefined {
  if (!metrics) return undefined;
  const existing = metrics.getSingleMetric(FOREIGN_RESULTS_METRIC);
  if (existing) return existing as Counter<'projection'>;
  return new Counter({
    name: FOREIGN_RESULTS_METRIC,
    help: "Command status events ignored because another thing or tenant than the command's sent them",
    labelNames: ['projection'],
    registers: [metrics],
  });
}

function projection(
  pool: pg.Pool,
  name: string,
  stream: string,
  filter: string[],
  options: CommandProjectionOptions,
): ProcessorDefinition & {
  checkpoint: PgCheckpoint;
} {
  const checkpoint = new PgCheckpoint(pool, name);
  const refused = foreignResults(options.metrics);
  const definition = defineProcessor({
    name,
    stream,
    filter,
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages, { logger }) {
      await checkpoint.apply(messages, async (client, fresh) => {
        for (const message of fresh) {
          const event = decodeEvent(message.data) as CommandEvent;
          const applied = await apply(client, event, entryContext(message));
          if (applied === 'applied') continue;
          refused?.inc({ projection: name });
          logger.warn(
            {
              commandId: event.data.commandId,
              tenantId: event.tenantId,
              thingId: event.data.thingId,
              applied,
            },
            "a command status event of another thing or tenant than the command's was refused",
          );
        }
      });
    },
  });
  return { ...definition, checkpoint };
}

/** command.requested from COMMANDS. */
export const requestedProjection = (pool: pg.Pool, options: CommandProjectionOptions = {}) =>
  projection(pool, 'commands-requested', STREAMS.COMMANDS.name, [commandsFilter()], options);

/** Scheduled commands (the reverts of timed commands) and their cancellations, from COMMANDS. */
export const scheduledProjection = (pool: pg.Pool, options: CommandProjectionOptions = {}) =>
  projection(pool, 'commands-scheduled', STREAMS.COMMANDS.name, [scheduledCommandsFilter()], options);

/** delivered / succeeded / failed / expired from EVENTS. */
export const statusProjection = (pool: pg.Pool, options: CommandProjectionOptions = {}) =>
  projection(pool, 'commands-status', STREAMS.EVENTS.name, [eventFilter({ type: 'command' })], options);
