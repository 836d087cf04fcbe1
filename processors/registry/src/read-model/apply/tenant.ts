import { deleteThingRows } from './thing.ts';
import type { ApplyHandlers } from './types.ts';

export const tenantHandlers: Pick<ApplyHandlers, 'tenant.created' | 'tenant.renamed' | 'tenant.deleted'> = {
  async 'tenant.created'(db, event) {
    await db.query(
      'INSERT INTO tenants (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING',
      [event.tenantId, event.data.name, event.time],
    );
  },
  async 'tenant.renamed'(db, event) {
    await db.query('UPDATE tenants SET name = $2, updated_at = $3 WHERE id = $1', [
      event.tenantId,
      event.data.name,
      event.time,
    ]);
  },
  async 'tenant.deleted'(db, event, ctx) {
    const tenant = event.tenantId;
    const { rows } = await db.query<{ id: string }>('SELECT id FROM things WHERE tenant_id = $1', [tenant]);
    for (const row of rows) await deleteThingRows(db, row.id, ctx);
    await db.query(
      `DELETE FROM registry_claims WHERE owner_id IN (SELECT id FROM users WHERE tenant_id = $1)`,
      [tenant],
    );
    for (const table of ['users', 'channels', 'api_keys']) {
      await db.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenant]);
    }
    await db.query('DELETE FROM tenants WHERE id = $1', [tenant]);
  },
};
