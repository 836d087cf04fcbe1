import {
  defineProcessor,
  PgCheckpoint,
  type ProcessorDefinition,
  type ProcessorMessage,
} from '@telly/runtime';
import {
  decodeEvent,
  type EventOf,
  eventFilter,
  INFERENCE_RESULT_PROTOCOL,
  isTellyId,
  messageFilters,
  parseSubject,
  STREAMS,
} from '@telly/schemas';
import type pg from 'pg';

/** @default refused publishes kept per thing (and per tenant for those without a thing) */
export const DEFAULT_REJECTIONS_PER_THING = 100;
/** @default refused publishes are kept this long */
export const DEFAULT_REJECTIONS_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1_000;

/** How many refused publishes the read model keeps. */
export interface RejectionBounds {
  /** The newest this many per thing. @default {@link DEFAULT_REJECTIONS_PER_THING} */
  perThing: number;
  /** None older than this. @default {@link DEFAULT_REJECTIONS_MAX_AGE_MS} */
  maxAgeMs: number;
}

export const DEFAULT_REJECTION_BOUNDS: RejectionBounds = {
  perThing: DEFAULT_REJECTIONS_PER_THING,
  maxAgeMs: DEFAULT_REJECTIONS_MAX_AGE_MS,
};

/** The processor names (durable consumers) of the device status read model. */
export const DEVICES_EVENTS = 'devices-events';
export const DEVICES_MESSAGES = 'devices-messages';

type DeviceEvent = EventOf<'thing.online' | 'thing.offline' | 'message.rejected'>;

async function applyPresence(
  db: pg.PoolClient,
  event: EventOf<'thing.online' | 'thing.offline'>,
  seq: number,
): Promise<void> {
  const online = event.type === 'thing.online';
  const reason = event.type === 'thing.offline' ? (event.data.reason ?? null) : null;
  // a session taken over by a newer one of the same thing: the thing is still online
  const keepsOnline = reason === 'taken-over';
  await db.query(
    `INSERT INTO device_status AS d (thing_id, tenant_id, online, protocol, remote_address, offline_reason,
       presence_at, presence_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, thing_id) DO UPDATE SET
       online = CASE WHEN $9 THEN d.online ELSE EXCLUDED.online END,
       protocol = EXCLUDED.protocol, remote_address = EXCLUDED.remote_address,
       offline_reason = EXCLUDED.offline_reason,
       presence_at = EXCLUDED.presence_at, presence_seq = EXCLUDED.presence_seq
     WHERE d.presence_at IS NULL OR (EXCLUDED.presence_at, EXCLUDED.presence_seq) > (d.presence_at, d.presence_seq)`,
    [
      event.data.thingId,
      event.tenantId,
      online && !keepsOnline,
      event.data.protocol,
      event.data.remoteAddress,
      reason,
      event.time,
      seq,
      keepsOnline,
    ],
  );
}

async function applyRejections(
  db: pg.PoolClient,
  events: EventOf<'message.rejected'>[],
  bounds: RejectionBounds,
): Promise<void> {
  if (events.length === 0) return;
  const column = <T>(pick: (e: EventOf<'message.rejected'>) => T) => events.map(pick);
  await db.query(
    `INSERT INTO device_rejections (id, tenant_id, thing_id, channel_id, at, protocol, reason, detail)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::text[], $7::text[], $8::text[])
     ON CONFLICT (id) DO NOTHING`,
    [
      column((e) => e.id),
      column((e) => e.tenantId),
      column((e) => e.data.thingId ?? null),
      column((e) => e.data.channelId ?? null),
      column((e) => e.time),
      column((e) => e.data.protocol),
      column((e) => e.data.reason),
      column((e) => e.data.detail),
    ],
  );
  await db.query(
    `INSERT INTO device_status AS d (thing_id, tenant_id, last_rejected_at)
     SELECT thing_id, tenant_id, max(at) FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS r(thing_id, tenant_id, at)
     WHERE thing_id IS NOT NULL GROUP BY thing_id, tenant_id
     ON CONFLICT (tenant_id, thing_id) DO UPDATE SET last_rejected_at = GREATEST(d.last_rejected_at, EXCLUDED.last_rejected_at)`,
    [column((e) => e.data.thingId ?? null), column((e) => e.tenantId), column((e) => e.time)],
  );
  // the newest `perThing` of each thing touched (of the tenant, for those without a thing)
  const keys = [...new Map(events.map((e) => [`${e.tenantId}/${e.data.thingId ?? ''}`, e])).values()];
  await db.query(
    `DELETE FROM device_rejections r USING (
       SELECT x.id FROM unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, thing_id)
       CROSS JOIN LATERAL (
         SELECT id FROM device_rejections d
         WHERE d.tenant_id = k.tenant_id AND d.thing_id IS NOT DISTINCT FROM k.thing_id
         ORDER BY id DESC OFFSET $3
       ) x
     ) old WHERE r.id = old.id`,
    [keys.map((e) => e.tenantId), keys.map((e) => e.data.thingId ?? null), bounds.perThing],
  );
}

/** Forgets refused publishes older than the bound; the component runs it now and then. */
export async function pruneRejections(pool: pg.Pool, bounds: RejectionBounds): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM device_rejections WHERE at < now() - $1 * interval '1 millisecond'`,
    [bounds.maxAgeMs],
  );
  return rowCount ?? 0;
}

/**
 * Presence (`thing.online`, `thing.offline`) and refused publishes (`message.rejected`) from
 * EVENTS. The latest presence event by time (then stream order) says whether a thing is online,
 * so the events of two bridge instances may arrive in either order.
 */
export function deviceEventsProjection(
  pool: pg.Pool,
  bounds: RejectionBounds = DEFAULT_REJECTION_BOUNDS,
): ProcessorDefinition & { checkpoint: PgCheckpoint } {
  const checkpoint = new PgCheckpoint(pool, DEVICES_EVENTS);
  const definition = defineProcessor({
    name: DEVICES_EVENTS,
    stream: STREAMS.EVENTS.name,
    filter: [eventFilter({ type: 'lifecycle' }), eventFilter({ type: 'rejected' })],
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      await checkpoint.apply(messages, async (client, fresh) => {
        const rejected: EventOf<'message.rejected'>[] = [];
        for (const message of fresh) {
          const event = decodeEvent(message.data) as DeviceEvent;
          if (event.type === 'message.rejected') rejected.push(event);
          else await applyPresence(client, event, message.seq);
        }
        await applyRejections(client, rejected, bounds);
      });
    },
  });
  return { ...definition, checkpoint };
}

/** When the bridge received a message: its `Telly-Received` header, else when the log stored it. */
function receivedAt(message: ProcessorMessage): number {
  return Number(message.headers?.get('Telly-Received')) || message.timestampMs;
}

/**
 * `lastMessageAt` of each thing from MESSAGES: one upsert per batch, keeping the later time, so
 * a redelivered or replayed batch changes nothing and no checkpoint is needed. A bound model's
 * result (`Telly-Protocol: inference`) is written by the inference component, not the thing:
 * it moves nothing.
 */
export function deviceMessagesProjection(pool: pg.Pool): ProcessorDefinition {
  return defineProcessor({
    name: DEVICES_MESSAGES,
    stream: STREAMS.MESSAGES.name,
    filter: [...messageFilters()],
    async handle(messages) {
      const latest = new Map<string, { tenant: string; at: number }>();
      for (const message of messages) {
        const subject = parseSubject(message.subject);
        // bridges publish ids only; anything else names no thing this read model could show
        if (subject.kind !== 'msg' || !isTellyId(subject.thing) || !isTellyId(subject.tenant)) continue;
        // a bound model's result names the thing, but the thing did not speak
        if (message.headers?.get('Telly-Protocol') === INFERENCE_RESULT_PROTOCOL) continue;
        const at = receivedAt(message);
        const seen = latest.get(subject.thing);
        if (!seen || seen.at < at) latest.set(subject.thing, { tenant: subject.tenant, at });
      }
      if (latest.size === 0) return;
      const things = [...latest];
      await pool.query(
        `INSERT INTO device_status AS d (thing_id, tenant_id, last_message_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[])
         ON CONFLICT (tenant_id, thing_id) DO UPDATE SET last_message_at = GREATEST(d.last_message_at, EXCLUDED.last_message_at)`,
        [
          things.map(([thing]) => thing),
          things.map(([, v]) => v.tenant),
          things.map(([, v]) => new Date(v.at).toISOString()),
        ],
      );
    },
  });
}
