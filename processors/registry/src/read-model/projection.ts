import type { KV } from '@nats-io/kv';
import { defineProcessor, PgCheckpoint, type ProcessorDefinition } from '@telly/runtime';
import { decodeEvent, STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { syncCredentials } from '../credentials.ts';
import type { RegistryEvent } from '../domain/decider.ts';
import { applyEvent, type Touched } from './apply-event.ts';

/** Durable consumer name of the registry projection, and its checkpoint key. */
export const REGISTRY_PROJECTION = 'registry';
/** Postgres NOTIFY channel carrying the last applied sequence after each commit. */
export const REGISTRY_NOTIFY_CHANNEL = 'telly_registry';

export interface RegistryProjectionOptions {
  pool: pg.Pool;
  credentials: KV;
  /** @default {@link REGISTRY_PROJECTION} */
  name?: string;
}

/**
 * Projects REGISTRY into the Postgres read model and the `credentials` KV bucket. Ordered (one
 * active instance, strict log order) because an entity's events only make sense in order.
 */
export function registryProjection(options: RegistryProjectionOptions): ProcessorDefinition & {
  checkpoint: PgCheckpoint;
  drainOutbox(): Promise<void>;
} {
  const { pool, credentials } = options;
  const name = options.name ?? REGISTRY_PROJECTION;
  const checkpoint = new PgCheckpoint(pool, name);

  async function drainOutbox(): Promise<void> {
    const { rows } = await pool.query<{ id: string; thing_id: string; seq: string }>(
      'SELECT id, thing_id, seq FROM registry_credential_outbox ORDER BY id LIMIT 10000',
    );
    if (rows.length === 0) return;
    const seqs = rows.map((r) => Number(r.seq));
    await syncCredentials(
      pool,
      credentials,
      new Set(rows.map((r) => r.thing_id)),
      Math.min(...seqs),
      Math.max(...seqs),
    );
    await pool.query('DELETE FROM registry_credential_outbox WHERE id <= $1', [rows[rows.length - 1]?.id]);
  }

  const definition = defineProcessor({
    name,
    stream: STREAMS.REGISTRY.name,
    ordered: true,
    batch: { maxMessages: 500 },
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      await checkpoint.apply(messages, async (client, fresh) => {
        for (const message of fresh) {
          const event = decodeEvent(message.data) as RegistryEvent;
          const touched: Touched = { things: new Set() };
          await applyEvent(client, event, message.seq, touched);
          for (const thingId of touched.things) {
            await client.query('INSERT INTO registry_credential_outbox (thing_id, seq) VALUES ($1, $2)', [
              thingId,
              message.seq,
            ]);
          }
        }
      });
      await drainOutbox();
      // after the KV sync, so a waiter that wakes up sees Postgres and the bucket both updated
      const last = messages[messages.length - 1];
      if (last) await pool.query('SELECT pg_notify($1, $2)', [REGISTRY_NOTIFY_CHANNEL, String(last.seq)]);
    },
  });
  return { ...definition, checkpoint, drainOutbox };
}
