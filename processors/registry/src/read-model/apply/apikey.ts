import type { ApplyHandlers } from './types.ts';

export const apiKeyHandlers: Pick<ApplyHandlers, 'apikey.created' | 'apikey.revoked'> = {
  async 'apikey.created'(db, event) {
    const { apikeyId, name, keyHash, role, expiresAt } = event.data;
    await db.query(
      `INSERT INTO api_keys (id, tenant_id, name, key_hash, role, expires_at, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [apikeyId, event.tenantId, name, keyHash, role, expiresAt ?? null, event.time, event.actor ?? null],
    );
  },
  async 'apikey.revoked'(db, event) {
    await db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [
      event.data.apikeyId,
      event.time,
    ]);
  },
};
