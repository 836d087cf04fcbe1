import type pg from 'pg';
import { updateNamed } from './named.ts';
import type { ApplyContext, ApplyHandlers } from './types.ts';

/** The thing's current key stops working: bridges refuse it from `seq` on. */
async function revokeCurrentKey(db: pg.PoolClient, thingId: string, seq: number): Promise<void> {
  await db.query(
    `INSERT INTO revoked_thing_keys (key_hash, thing_id, revoked_seq)
     SELECT key_hash, id, $2 FROM things WHERE id = $1 ON CONFLICT DO NOTHING`,
    [thingId, seq],
  );
}

/** Removes a thing with its connections, bootstrap config and external-id claim. */
export async function deleteThingRows(db: pg.PoolClient, thingId: string, ctx: ApplyContext): Promise<void> {
  await revokeCurrentKey(db, thingId, ctx.seq);
  await db.query('DELETE FROM connections WHERE thing_id = $1', [thingId]);
  await db.query('DELETE FROM bootstrap_configs WHERE thing_id = $1', [thingId]);
  await db.query(`DELETE FROM registry_claims WHERE kind = 'external-id' AND owner_id = $1`, [thingId]);
  await db.query('DELETE FROM things WHERE id = $1', [thingId]);
  ctx.touched.things.add(thingId);
}

async function setEnabled(
  db: pg.PoolClient,
  thingId: string,
  enabled: boolean,
  time: string,
  ctx: ApplyContext,
) {
  await db.query('UPDATE things SET enabled = $2, updated_at = $3 WHERE id = $1', [thingId, enabled, time]);
  ctx.touched.things.add(thingId);
}

/** The thing's own rate limit (both null: the deployment's); bridges get it with the credential. */
async function setRateLimit(
  db: pg.PoolClient,
  thingId: string,
  limit: { perSecond: number; burst: number } | null,
  time: string,
  ctx: ApplyContext,
) {
  await db.query('UPDATE things SET rate_per_second = $2, rate_burst = $3, updated_at = $4 WHERE id = $1', [
    thingId,
    limit?.perSecond ?? null,
    limit?.burst ?? null,
    time,
  ]);
  ctx.touched.things.add(thingId);
}

export const thingHandlers: Pick<
  ApplyHandlers,
  | 'thing.created'
  | 'thing.updated'
  | 'thing.key-rotated'
  | 'thing.enabled'
  | 'thing.disabled'
  | 'thing.rate-limit-set'
  | 'thing.rate-limit-cleared'
  | 'thing.deleted'
  | 'thing.connected'
  | 'thing.disconnected'
> = {
  async 'thing.created'(db, event, ctx) {
    const { thingId, name, metadata, keyHash } = event.data;
    await db.query(
      `INSERT INTO things (id, tenant_id, name, metadata, key_hash, enabled, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, true, $6, $6) ON CONFLICT DO NOTHING`,
      [thingId, event.tenantId, name, metadata, keyHash, event.time],
    );
    ctx.touched.things.add(thingId);
  },
  'thing.updated': (db, event) => updateNamed(db, 'things', event.data.thingId, event.data, event.time),
  async 'thing.key-rotated'(db, event, ctx) {
    await revokeCurrentKey(db, event.data.thingId, ctx.seq);
    await db.query('UPDATE things SET key_hash = $2, updated_at = $3 WHERE id = $1', [
      event.data.thingId,
      event.data.keyHash,
      event.time,
    ]);
    ctx.touched.things.add(event.data.thingId);
  },
  'thing.enabled': (db, event, ctx) => setEnabled(db, event.data.thingId, true, event.time, ctx),
  'thing.disabled': (db, event, ctx) => setEnabled(db, event.data.thingId, false, event.time, ctx),
  'thing.rate-limit-set': (db, event, ctx) =>
    setRateLimit(db, event.data.thingId, event.data, event.time, ctx),
  'thing.rate-limit-cleared': (db, event, ctx) => setRateLimit(db, event.data.thingId, null, event.time, ctx),
  'thing.deleted': (db, event, ctx) => deleteThingRows(db, event.data.thingId, ctx),
  async 'thing.connected'(db, event, ctx) {
    await db.query(
      `INSERT INTO connections (thing_id, channel_id, tenant_id, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [event.data.thingId, event.data.channelId, event.tenantId, event.time],
    );
    ctx.touched.things.add(event.data.thingId);
  },
  async 'thing.disconnected'(db, event, ctx) {
    await db.query('DELETE FROM connections WHERE thing_id = $1 AND channel_id = $2', [
      event.data.thingId,
      event.data.channelId,
    ]);
    ctx.touched.things.add(event.data.thingId);
  },
};
