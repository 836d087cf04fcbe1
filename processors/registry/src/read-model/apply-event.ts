import type pg from 'pg';
import type { RegistryEvent } from '../domain/decider.ts';
import { effectiveRole } from '../domain/user.ts';

/** What applying an event touched outside Postgres: things whose credentials must be re-synced. */
export interface Touched {
  things: Set<string>;
}

/**
 * Applies one registry event to the read model inside the projection's transaction. Every
 * statement is idempotent in effect and takes times from the event, so a replay of the log
 * produces the same rows byte for byte.
 */
export async function applyEvent(
  db: pg.PoolClient,
  event: RegistryEvent,
  seq: number,
  touched: Touched,
): Promise<void> {
  const t = event.time;
  const tenant = event.tenantId;
  switch (event.type) {
    case 'tenant.created':
      await db.query(
        'INSERT INTO tenants (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING',
        [tenant, event.data.name, t],
      );
      return;
    case 'tenant.renamed':
      await db.query('UPDATE tenants SET name = $2, updated_at = $3 WHERE id = $1', [
        tenant,
        event.data.name,
        t,
      ]);
      return;
    case 'tenant.deleted': {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM things WHERE tenant_id = $1', [tenant]);
      for (const row of rows) await deleteThing(db, row.id, seq, touched);
      await db.query(
        `DELETE FROM registry_claims WHERE owner_id IN (SELECT id FROM users WHERE tenant_id = $1)`,
        [tenant],
      );
      for (const table of ['users', 'channels', 'api_keys']) {
        await db.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenant]);
      }
      await db.query('DELETE FROM tenants WHERE id = $1', [tenant]);
      return;
    }
    case 'user.registered': {
      const { userId, email, passwordHash, roles } = event.data;
      await db.query(
        `INSERT INTO users (id, tenant_id, email, password_hash, roles, role, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING`,
        [userId, tenant, email, passwordHash, roles, effectiveRole(roles) ?? 'viewer', t],
      );
      await confirmClaim(db, 'email', email, userId);
      return;
    }
    case 'user.role-granted':
    case 'user.role-revoked': {
      const { rows } = await db.query<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [
        event.data.userId,
      ]);
      if (!rows[0]) return;
      const roles = new Set(rows[0].roles);
      if (event.type === 'user.role-granted') roles.add(event.data.role);
      else roles.delete(event.data.role);
      const list = [...roles].sort() as Parameters<typeof effectiveRole>[0] & string[];
      await db.query('UPDATE users SET roles = $2, role = $3, updated_at = $4 WHERE id = $1', [
        event.data.userId,
        list,
        effectiveRole(list) ?? 'viewer',
        t,
      ]);
      return;
    }
    case 'user.password-changed':
      await db.query('UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1', [
        event.data.userId,
        event.data.passwordHash,
        t,
      ]);
      return;
    case 'user.deleted':
      await db.query('DELETE FROM users WHERE id = $1', [event.data.userId]);
      await db.query(`DELETE FROM registry_claims WHERE kind = 'email' AND owner_id = $1`, [
        event.data.userId,
      ]);
      return;
    case 'thing.created': {
      const { thingId, name, metadata, keyHash } = event.data;
      await db.query(
        `INSERT INTO things (id, tenant_id, name, metadata, key_hash, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, true, $6, $6) ON CONFLICT DO NOTHING`,
        [thingId, tenant, name, metadata, keyHash, t],
      );
      touched.things.add(thingId);
      return;
    }
    case 'thing.updated':
      await db.query(
        `UPDATE things SET name = COALESCE($2, name), metadata = COALESCE($3, metadata), updated_at = $4
         WHERE id = $1`,
        [event.data.thingId, event.data.name ?? null, event.data.metadata ?? null, t],
      );
      return;
    case 'thing.key-rotated':
      await revokeCurrentKey(db, event.data.thingId, seq);
      await db.query('UPDATE things SET key_hash = $2, updated_at = $3 WHERE id = $1', [
        event.data.thingId,
        event.data.keyHash,
        t,
      ]);
      touched.things.add(event.data.thingId);
      return;
    case 'thing.enabled':
    case 'thing.disabled':
      await db.query('UPDATE things SET enabled = $2, updated_at = $3 WHERE id = $1', [
        event.data.thingId,
        event.type === 'thing.enabled',
        t,
      ]);
      touched.things.add(event.data.thingId);
      return;
    case 'thing.deleted':
      await deleteThing(db, event.data.thingId, seq, touched);
      return;
    case 'thing.connected':
      await db.query(
        `INSERT INTO connections (thing_id, channel_id, tenant_id, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [event.data.thingId, event.data.channelId, tenant, t],
      );
      touched.things.add(event.data.thingId);
      return;
    case 'thing.disconnected':
      await db.query('DELETE FROM connections WHERE thing_id = $1 AND channel_id = $2', [
        event.data.thingId,
        event.data.channelId,
      ]);
      touched.things.add(event.data.thingId);
      return;
    case 'channel.created': {
      const { channelId, name, metadata } = event.data;
      await db.query(
        `INSERT INTO channels (id, tenant_id, name, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING`,
        [channelId, tenant, name, metadata, t],
      );
      return;
    }
    case 'channel.updated':
      await db.query(
        `UPDATE channels SET name = COALESCE($2, name), metadata = COALESCE($3, metadata), updated_at = $4
         WHERE id = $1`,
        [event.data.channelId, event.data.name ?? null, event.data.metadata ?? null, t],
      );
      return;
    case 'channel.deleted': {
      const { channelId } = event.data;
      const { rows } = await db.query<{ thing_id: string }>(
        'DELETE FROM connections WHERE channel_id = $1 RETURNING thing_id',
        [channelId],
      );
      for (const row of rows) touched.things.add(row.thing_id);
      await db.query(
        'UPDATE bootstrap_configs SET channels = array_remove(channels, $1::uuid) WHERE $1::uuid = ANY(channels)',
        [channelId],
      );
      await db.query('DELETE FROM channels WHERE id = $1', [channelId]);
      return;
    }
    case 'apikey.created': {
      const { apikeyId, name, keyHash, role, expiresAt } = event.data;
      await db.query(
        `INSERT INTO api_keys (id, tenant_id, name, key_hash, role, expires_at, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [apikeyId, tenant, name, keyHash, role, expiresAt ?? null, t, event.actor ?? null],
      );
      return;
    }
    case 'apikey.revoked':
      await db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [
        event.data.apikeyId,
        t,
      ]);
      return;
    case 'bootstrap.configured': {
      const { thingId, externalId, externalKeyHash, channels, content } = event.data;
      await db.query(
        `DELETE FROM registry_claims WHERE kind = 'external-id' AND owner_id = $1 AND value <> $2`,
        [thingId, externalId],
      );
      await db.query(
        `INSERT INTO bootstrap_configs (thing_id, tenant_id, external_id, external_key_hash, channels, content, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (thing_id) DO UPDATE SET external_id = EXCLUDED.external_id,
           external_key_hash = EXCLUDED.external_key_hash, channels = EXCLUDED.channels,
           content = EXCLUDED.content, updated_at = EXCLUDED.updated_at`,
        [thingId, tenant, externalId, externalKeyHash, channels, content, t],
      );
      await confirmClaim(db, 'external-id', externalId, thingId);
      return;
    }
    case 'bootstrap.removed':
      await db.query('DELETE FROM bootstrap_configs WHERE thing_id = $1', [event.data.thingId]);
      await db.query(`DELETE FROM registry_claims WHERE kind = 'external-id' AND owner_id = $1`, [
        event.data.thingId,
      ]);
      return;
  }
}

async function revokeCurrentKey(db: pg.PoolClient, thingId: string, seq: number): Promise<void> {
  await db.query(
    `INSERT INTO revoked_thing_keys (key_hash, thing_id, revoked_seq)
     SELECT key_hash, id, $2 FROM things WHERE id = $1 ON CONFLICT DO NOTHING`,
    [thingId, seq],
  );
}

async function deleteThing(db: pg.PoolClient, thingId: string, seq: number, touched: Touched): Promise<void> {
  await revokeCurrentKey(db, thingId, seq);
  await db.query('DELETE FROM connections WHERE thing_id = $1', [thingId]);
  await db.query('DELETE FROM bootstrap_configs WHERE thing_id = $1', [thingId]);
  await db.query(`DELETE FROM registry_claims WHERE kind = 'external-id' AND owner_id = $1`, [thingId]);
  await db.query('DELETE FROM things WHERE id = $1', [thingId]);
  touched.things.add(thingId);
}

/** The log now holds the value's owner: the claim is permanent (until the owner lets it go). */
async function confirmClaim(db: pg.PoolClient, kind: string, value: string, ownerId: string): Promise<void> {
  await db.query(
    `INSERT INTO registry_claims (kind, value, owner_id, confirmed, claimed_at) VALUES ($1, $2, $3, true, now())
     ON CONFLICT (kind, value) DO UPDATE SET owner_id = EXCLUDED.owner_id, confirmed = true`,
    [kind, value, ownerId],
  );
}
