import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { isConsumerNotFound, PgCheckpoint, withTransaction } from '@telly/runtime';
import { STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { READ_MODEL_TABLES } from './migrations.ts';
import { REGISTRY_PROJECTION } from './projection.ts';

export interface ResetOptions {
  pool: pg.Pool;
  credentials: KV;
  jsm: JetStreamManager;
  /** @default {@link REGISTRY_PROJECTION} */
  name?: string;
}

/**
 * Forgets everything the registry projection built — read model, checkpoint, consumer and the
 * credentials bucket's entries — so that the next run replays REGISTRY from the first event.
 * Stop the projection first.
 */
export async function resetRegistryProjection(options: ResetOptions): Promise<void> {
  const name = options.name ?? REGISTRY_PROJECTION;
  try {
    await options.jsm.consumers.delete(STREAMS.REGISTRY.name, name);
  } catch (err) {
    if (!isConsumerNotFound(err)) throw err;
  }
  await withTransaction(options.pool, async (client) => {
    await client.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
    await new PgCheckpoint(options.pool, name).forgetWithin(client);
  });
  for await (const key of await options.credentials.keys()) await options.credentials.purge(key);
}
