import pg from 'pg';
import type { Logger } from './logger.ts';

/**
 * A Postgres pool that survives its server going away (a Postgres restart, a failover). pg emits
 * `error` on the pool for an idle client whose connection dies, and on the client itself for a
 * checked-out one between two queries (a transaction awaiting something else); either unhandled
 * would crash the process. An idle dead client is discarded by the pool; a checked-out one fails
 * its holder's next query, which says why, and is discarded when released.
 */
export function createPgPool(config: pg.PoolConfig, logger: Logger): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', (err) =>
    logger.warn({ err: err.message }, 'idle Postgres connection lost; it will be replaced'),
  );
  pool.on('connect', (client) =>
    client.on('error', (err) => logger.debug({ err: err.message }, 'Postgres connection lost')),
  );
  return pool;
}

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it returns, ROLLBACK
 * when it throws (the error is rethrown), the connection released either way.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
