import { confirmClaim } from '../claims.ts';
import type { ApplyHandlers } from './types.ts';

export const bootstrapHandlers: Pick<ApplyHandlers, 'bootstrap.configured' | 'bootstrap.removed'> = {
  async 'bootstrap.configured'(db, event) {
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
      [thingId, event.tenantId, externalId, externalKeyHash, channels, content, event.time],
    );
    await confirmClaim(db, 'external-id', externalId, thingId);
  },
  async 'bootstrap.removed'(db, event) {
    await db.query('DELETE FROM bootstrap_configs WHERE thing_id = $1', [event.data.thingId]);
    await db.query(`DELETE FROM registry_claims WHERE kind = 'external-id' AND owner_id = $1`, [
      event.data.thingId,
    ]);
  },
};
