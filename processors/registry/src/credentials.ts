import type { KV } from '@nats-io/kv';
import {
  credentialKvKey,
  credentialOfEntry,
  encodeThingCredential,
  type ThingCredential,
} from '@telly/schemas';
import type pg from 'pg';

/**
 * Reads the credential of a key hash (`sha256:<hex>`) from the `credentials` bucket, the
 * registry's projection for bridges (in the shape `@telly/schemas` defines), or undefined for an
 * unknown or revoked key.
 */
export async function readCredential(kv: KV, keyHash: string): Promise<ThingCredential | undefined> {
  return credentialOfEntry(await kv.get(credentialKvKey(keyHash)));
}

/**
 * Makes the bucket match the read model for these things: puts each live thing's current key
 * entry and deletes the keys revoked between `fromSeq` and `toSeq`. Idempotent, so a
 * redelivered batch re-syncs rather than skips.
 */
export async function syncCredentials(
  pool: pg.Pool,
  kv: KV,
  thingIds: Iterable<string>,
  fromSeq: number,
  toSeq: number,
): Promise<void> {
  const ids = [...thingIds];
  if (ids.length === 0) return;
  const revoked = await pool.query<{ key_hash: string }>(
    `SELECT key_hash FROM revoked_thing_keys
     WHERE thing_id = ANY($1::uuid[]) AND revoked_seq BETWEEN $2 AND $3`,
    [ids, fromSeq, toSeq],
  );
  for (const row of revoked.rows) await kv.delete(credentialKvKey(row.key_hash));
  const live = await pool.query<{
    id: string;
    tenant_id: string;
    enabled: boolean;
    key_hash: string;
    rate_per_second: number | null;
    rate_burst: number | null;
    channels: string[];
  }>(
    `SELECT t.id, t.tenant_id, t.enabled, t.key_hash, t.rate_per_second, t.rate_burst,
            ARRAY(SELECT c.channel_id::text FROM connections c WHERE c.thing_id = t.id ORDER BY c.channel_id) AS channels
     FROM things t WHERE t.id = ANY($1::uuid[])`,
    [ids],
  );
  for (const row of live.rows) {
    const credential: ThingCredential = {
      thingId: row.id,
      tenantId: row.tenant_id,
      enabled: row.enabled,
      channels: row.channels,
    };
    if (row.rate_per_second !== null && row.rate_burst !== null) {
      credential.rateLimit = { perSecond: row.rate_per_second, burst: row.rate_burst };
    }
    await kv.put(credentialKvKey(row.key_hash), encodeThingCredential(credential));
  }
}
