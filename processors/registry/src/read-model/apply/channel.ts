import { updateNamed } from './named.ts';
import type { ApplyHandlers } from './types.ts';

export const channelHandlers: Pick<ApplyHandlers, 'channel.created' | 'channel.updated' | 'channel.deleted'> =
  {
    async 'channel.created'(db, event) {
      const { channelId, name, metadata } = event.data;
      await db.query(
        `INSERT INTO channels (id, tenant_id, name, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING`,
        [channelId, event.tenantId, name, metadata, event.time],
      );
    },
    'channel.updated': (db, event) =>
      updateNamed(db, 'channels', event.data.channelId, event.data, event.time),
    async 'channel.deleted'(db, event, ctx) {
      const { channelId } = event.data;
      const { rows } = await db.query<{ thing_id: string }>(
        'DELETE FROM connections WHERE channel_id = $1 RETURNING thing_id',
        [channelId],
      );
      for (const row of rows) ctx.touched.things.add(row.thing_id);
      await db.query(
        'UPDATE bootstrap_configs SET channels = array_remove(channels, $1::uuid) WHERE $1::uuid = ANY(channels)',
        [channelId],
      );
      await db.query('DELETE FROM channels WHERE id = $1', [channelId]);
    },
  };
