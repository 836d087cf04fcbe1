import type pg from 'pg';

/** Things and channels: a name and metadata an update may change, either or both. */
export async function updateNamed(
  db: pg.PoolClient,
  table: 'things' | 'channels',
  id: string,
  data: { name?: string | undefined; metadata?: Record<string, unknown> | undefined },
  time: string,
): Promise<void> {
  await db.query(
    `UPDATE ${table} SET name = COALESCE($2, name), metadata = COALESCE($3, metadata), updated_at = $4
     WHERE id = $1`,
    [id, data.name ?? null, data.metadata ?? null, time],
  );
}
